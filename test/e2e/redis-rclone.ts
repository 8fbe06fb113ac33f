// What the Redis files with `backup` share: the test image with Redis and rclone
// (tools/images/redis-rclone), the Redis version it runs, the bucket of the store and where the
// preset's scripts are in the pods.
import { RedisVersion } from '../../lib';
import { imageRef, imageTag } from './helpers';

export const REDIS_RCLONE_IMAGE = imageRef('redis-rclone');
export const REDIS_RCLONE_VERSION = RedisVersion.of(imageTag('redis-rclone').split('-')[0]);
export const BACKUP_BUCKET = 'backups';
export const SCRIPTS_PATH = '/opt/cdk8s-stateful';
