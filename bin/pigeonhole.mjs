#!/usr/bin/env node
// The CLI is TypeScript, run through tsx like `npm start`, so that a clone needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/pigeonhole.ts');
