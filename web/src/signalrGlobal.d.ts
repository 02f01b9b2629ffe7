// The browser build of @microsoft/signalr (served at /assets/vendor/signalr.min.js) defines
// the global `signalR`; its types come from the same package.
import type * as SignalR from '@microsoft/signalr';

declare global {
  // eslint-disable-next-line no-var
  var signalR: typeof SignalR | undefined;
}
