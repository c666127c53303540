import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger for every function; each invocation appends its connection and user. */
export const logger = new Logger({ serviceName: 'pigeonhole' });
