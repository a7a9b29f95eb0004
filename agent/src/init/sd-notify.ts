// Tells systemd how the agent's service is doing (the sd_notify protocol): `READY=1` once the
// agent serves, so that units ordered after kata-agent.service (Type=notify) start only then, and
// `STOPPING=1` when it shuts down. A message is one datagram of NAME=value lines on the Unix
// socket named by $NOTIFY_SOCKET; the variable is taken out of the environment at start, as
// sd_notify's unset_environment does, so that containers and shells never inherit it.
import { native } from "../native/index.js";

export class SystemdNotifier {
  private constructor(readonly socket: string) {}

  /**
   * The notifier for $NOTIFY_SOCKET, removed from `env`; undefined when systemd did not ask for
   * notifications. Only path and abstract ("@name") sockets are understood.
   */
  static take(env: NodeJS.ProcessEnv = process.env): SystemdNotifier | undefined {
    const socket = env.NOTIFY_SOCKET;
    delete env.NOTIFY_SOCKET;
    if (!socket || !(socket.startsWith("/") || socket.startsWith("@"))) return undefined;
    return new SystemdNotifier(socket);
  }

  /** Sends the assignments as one message, e.g. notify({ READY: "1", STATUS: "serving" }). */
  notify(state: Record<string, string>): void {
    const text = Object.entries(state)
      .map(([name, value]) => `${name}=${value.replace(/\n/g, " ")}`)
      .join("\n");
    native().sendDatagram(this.socket, `${text}\n`);
  }
}
