export * from './errors';
export * from './storage/common';
export * from './storage/storage-class';
export * from './storage/nfs-pool';
export * from './network/headless-service';
export * from './database/probe';
export * from './database/engine';
export * from './database/stateful-database';
