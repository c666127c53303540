/**
 * Typed errors, each mapped to its wire code and HTTP status in one place.
 * Their messages are written for the person reading the error frame; anything else that is thrown
 * is reported as INTERNAL with a fixed message, so nothing internal ever reaches a client.
 */
import type { AdminErrorCode } from './protocol';

export abstract class AppError extends Error {
  abstract readonly code: AdminErrorCode;
  abstract readonly httpStatus: number;
}

export class BadRequestError extends AppError {
  readonly code = 'BAD_REQUEST';
  readonly httpStatus = 400;
}

export class UnknownActionError extends AppError {
  readonly code = 'UNKNOWN_ACTION';
  readonly httpStatus = 400;
  constructor(action: string) {
    super(`unknown action '${action.slice(0, 64)}'`);
  }
}

export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  readonly httpStatus = 403;
}

export class OutOfRangeError extends AppError {
  readonly code = 'OUT_OF_RANGE';
  readonly httpStatus = 400;
}

export class TooLargeError extends AppError {
  readonly code = 'TOO_LARGE';
  readonly httpStatus = 413;
}

export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
  readonly httpStatus = 429;
  constructor(
    message: string,
    /** How long the caller should wait before trying again. */
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  readonly httpStatus = 404;
}

export class UnauthorizedError extends AppError {
  readonly code = 'UNAUTHORIZED';
  readonly httpStatus = 401;
}

export class ConflictError extends AppError {
  readonly code = 'CONFLICT';
  readonly httpStatus = 409;
}

export const internalErrorMessage = 'internal error: the request was not completed; retrying is safe';
