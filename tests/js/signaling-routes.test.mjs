// SignalingRoutes (js-glue/transports/signaling-routes.js): the kernel's
// RouteOpen/RouteSend/RouteClose/RouteList reach the transport registered
// under the route's name, and its events go back as handleRouteOpen,
// handleRouteMessage, handleRouteClosed and handleRouteListing for that route.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';

import { SIGNALING_TRANSPORTS, SignalingRoutes } from '../../js-glue/transports/signaling-routes.js';

// A driver whose inputs are recorded as [method, ...args without the time].
function recordingDriver() {
  const inputs = [];
  const kernel = new Proxy({}, { get: (_, method) => (...args) => inputs.push([method, ...args.slice(0, -1)]) });
  return { inputs, input: (fn) => fn(kernel, 0) };
}

// A transport that records what it is asked and lets the test raise its events.
function fakeTransport(route, { withList = true } = {}) {
  const made = [];
  class Fake {
    static route = route;
    asked = [];
    constructor(events) {
      this.events = events;
      made.push(this);
    }
    open(url) {
      this.asked.push(['open', url]);
    }
    send(text, to) {
      this.asked.push(['send', text, to]);
    }
    close() {
      this.asked.push(['close']);
    }
  }
  if (withList) {
    Fake.prototype.list = function list(url) {
      this.asked.push(['list', url]);
    };
  }
  return { Fake, made };
}

describe('SignalingRoutes', () => {
  it('carries the kernel’s own route names, one transport each', () => {
    const routes = SIGNALING_TRANSPORTS.map((T) => T.route);
    assert.deepEqual(routes, ['broadcast-channel', 'peerjs-server']);
  });

  it('hands each route output to the transport of that route, made once', () => {
    const driver = recordingDriver();
    const one = fakeTransport('one');
    const two = fakeTransport('two');
    const routes = new SignalingRoutes(driver, [one.Fake, two.Fake]);
    routes.open('two', 'url-2');
    routes.send('two', 'hello', 'peer-x');
    routes.list('two', 'list-url');
    routes.close('two');
    routes.open('two', 'url-2b');
    assert.equal(one.made.length, 0);
    assert.equal(two.made.length, 1);
    assert.deepEqual(two.made[0].asked, [['open', 'url-2'], ['send', 'hello', 'peer-x'], ['list', 'list-url'], ['close'], ['open', 'url-2b']]);
  });

  it('turns a transport’s events into the kernel’s route inputs', () => {
    const driver = recordingDriver();
    const { Fake, made } = fakeTransport('one');
    const routes = new SignalingRoutes(driver, [Fake]);
    routes.open('one', 'u');
    const { events } = made[0];
    events.onOpen();
    events.onMessage('text');
    events.onListing(true, '["a"]');
    events.onClosed();
    assert.deepEqual(driver.inputs, [
      ['handleRouteOpen', 'one'],
      ['handleRouteMessage', 'one', 'text'],
      ['handleRouteListing', 'one', true, '["a"]'],
      ['handleRouteClosed', 'one'],
    ]);
  });

  it('answers for what no transport can do: a route it lacks reports closed, a route without a listing lists nothing', async () => {
    const driver = recordingDriver();
    const { Fake } = fakeTransport('plain', { withList: false });
    const routes = new SignalingRoutes(driver, [Fake]);
    routes.open('nowhere', 'u');
    routes.open('plain', 'u');
    routes.list('plain', 'list-url');
    routes.send('nowhere', 'dropped', '');
    assert.deepEqual(driver.inputs, [], 'no answer during the call');
    await setImmediate();
    assert.deepEqual(driver.inputs, [
      ['handleRouteClosed', 'nowhere'],
      ['handleRouteListing', 'plain', false, ''],
    ]);
  });

  it('closeAll() closes every transport it made', () => {
    const driver = recordingDriver();
    const one = fakeTransport('one');
    const two = fakeTransport('two');
    const routes = new SignalingRoutes(driver, [one.Fake, two.Fake]);
    routes.open('two', 'u');
    routes.closeAll();
    assert.equal(one.made.length, 0);
    assert.deepEqual(two.made[0].asked, [['open', 'u'], ['close']]);
  });

  it('refuses a transport without a route or without a method of the interface', () => {
    const driver = recordingDriver();
    const { Fake } = fakeTransport('');
    assert.throws(() => new SignalingRoutes(driver, [Fake]), /names no route/);
    class NoSend {
      static route = 'r';
      open() {}
      close() {}
    }
    assert.throws(() => new SignalingRoutes(driver, [NoSend]), /lacks send\(\)/);
  });
});
