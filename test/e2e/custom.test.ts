// A custom engine (DatabaseEngine.custom) with two init containers that share a scratch volume
// with the server: busybox httpd (the test image busybox, tools/images/versions.json) serves what the
// init containers wrote, through the client Service and each member's pod DNS name.
import { Size } from 'cdk8s';
import { DatabaseEngine, HealthProbe, StatefulDatabase } from '../../lib';
import { exec, imageRef, minutes, podHost, serviceHost, setUpEngine } from './helpers';

const NS = 'e2e-custom';
const NAME = 'web';

const image = imageRef('busybox');
setUpEngine(NS, {
  name: NAME,
  replicas: 2,
  define: (chart) => {
    new StatefulDatabase(chart, 'web', {
      name: NAME,
      engine: DatabaseEngine.custom({
        name: 'web',
        image,
        ports: [{ name: 'http', port: 8080 }],
        command: ['httpd', '-f', '-v', '-p', '8080', '-h', '/www'],
        readinessProbe: HealthProbe.http('/index.html', 8080),
      }),
      replicas: 2,
      storage: { size: Size.mebibytes(64) },
      scratchVolumes: [{ name: 'www' }],
      mounts: [{ volume: 'www', path: '/www', readOnly: true }],
      initContainers: [
        {
          name: 'index',
          image,
          command: ['sh', '-c', 'echo "served from $HOSTNAME" > /www/index.html'],
          mounts: [{ volume: 'www', path: '/www' }],
        },
        {
          name: 'page',
          image,
          // runs after `index`, on the same volume: it sees and extends what the first one wrote
          command: ['sh', '-c', 'wc -c < /www/index.html > /www/page.txt && echo "second init container" >> /www/page.txt'],
          mounts: [{ volume: 'www', path: '/www' }],
        },
      ],
    });
  },
  readyWithin: minutes(4),
});

const get = (host: string, file: string) => exec(NS, `${NAME}-0`, 'main', `wget -qO- http://${host}:8080/${file}`);

test('the files the init containers wrote are served, through the client Service and each pod DNS name', async () => {
  for (const i of [0, 1]) {
    expect(await get(podHost(NS, NAME, i), 'index.html')).toBe(`served from ${NAME}-${i}\n`);
    const page = await get(podHost(NS, NAME, i), 'page.txt');
    expect(page).toBe(`${`served from ${NAME}-${i}\n`.length}\nsecond init container\n`);
  }
  expect(await get(serviceHost(NS, NAME), 'index.html')).toMatch(new RegExp(`^served from ${NAME}-[01]\\n$`));
});
