export * from './errors.ts';
export * from './logger.ts';
export * from './ids.ts';
export * from './clock.ts';
export * from './config.ts';
export * from './output.ts';
