// What the Redis files of the real-node suite (redis.test.ts, redis-recovery.test.ts) ask of a set
// of the preset without Sentinel (member 0 the primary): redis-cli in the client pod against a
// member or the client Service, acknowledged keys written through the client Service and looked
// for on every member, and the replication topology as Redis reports it (INFO replication).
import { DatabaseEngine, RedisVersion } from '../../lib';
import { clientExec, imageRef, imageTag, minutes, podHost, serviceHost, setUpPreset, waitFor } from './helpers';

export interface RedisSet {
  /** Runs redis-cli ARGS in the client pod against HOST, with the password; its output, trimmed. */
  cli(host: string, args: string): Promise<string>;
  /** A field of INFO replication on HOST. */
  info(host: string, field: string): Promise<string | undefined>;
  /** SETs a new key e2e:<id> through the client Service (the primary); throws unless it answered OK. */
  write(): Promise<void>;
  /** The acknowledged e2e:<id> keys HOST does not hold. */
  missingOn(host: string): Promise<number[]>;
  /** Waits until members 0..REPLICAS-1 hold every acknowledged key. */
  expectAllKeys(replicas: number): Promise<void>;
  /** Waits until member 0 is the master with REPLICAS-1 linked replicas; every other member a replica with its link up. */
  expectReplicas(replicas: number): Promise<void>;
}

/** The set NAME of NS, its password SECRET. */
export function redisSet(ns: string, name: string, secret: string): RedisSet {
  const member = (i: number) => `${name}-${i}`;
  const cli = async (host: string, args: string) => (await clientExec(ns, `REDISCLI_AUTH="$pw" redis-cli -h ${host} ${args}`, secret)).trim();
  const info = async (host: string, field: string) =>
    (await cli(host, 'INFO replication')).split(/\r?\n/).find((l) => l.startsWith(`${field}:`))?.split(':')[1];
  const acked: number[] = [];
  let nextId = 1;
  const missingOn = async (host: string) => {
    const keys = (await cli(host, '--scan --pattern e2e:*')).split('\n').filter(Boolean).map((k) => Number(k.split(':')[1]));
    return acked.filter((id) => !keys.includes(id));
  };
  return {
    cli,
    info,
    missingOn,
    // redis-cli exits 0 on an error reply, so the reply is checked
    write: async () => {
      const id = nextId++;
      const reply = await cli(serviceHost(ns, name), `SET e2e:${id} v${id}`);
      if (reply !== 'OK') throw new Error(`SET e2e:${id} answered '${reply}'`);
      acked.push(id);
    },
    expectAllKeys: async (replicas: number) => {
      for (let i = 0; i < replicas; i++) {
        await waitFor(ns, `member ${i} has every acknowledged key`, minutes(2), async () => (await missingOn(podHost(ns, name, i))).length === 0);
      }
    },
    expectReplicas: async (replicas: number) => {
      await waitFor(ns, `connected_slaves:${replicas - 1} on the primary`, minutes(3), async () =>
        (await info(podHost(ns, name, 0), 'connected_slaves')) === String(replicas - 1));
      // a replica counts as connected from the start of its sync; its link is up once the sync is done
      for (let i = 1; i < replicas; i++) {
        await waitFor(ns, `${member(i)}'s link to the primary up`, minutes(2), async () => (await info(podHost(ns, name, i), 'master_link_status')) === 'up');
      }
      expect(await info(podHost(ns, name, 0), 'role')).toBe('master');
      for (let i = 1; i < replicas; i++) {
        expect({ member: i, role: await info(podHost(ns, name, i), 'role'), link: await info(podHost(ns, name, i), 'master_link_status') })
          .toEqual({ member: i, role: 'slave', link: 'up' });
      }
    },
  };
}

/** `setUpPreset` for set NAME of the preset (the test image's Redis) in NS, password SECRET; its `RedisSet`. */
export function setUpRedisSet(ns: string, name: string, secret: string): RedisSet {
  setUpPreset(ns, {
    name,
    engine: DatabaseEngine.redis({ version: RedisVersion.of(imageTag('redis')) }),
    secret: { password: secret },
    image: imageRef('redis'),
    readyWithin: minutes(8),
  });
  return redisSet(ns, name, secret);
}
