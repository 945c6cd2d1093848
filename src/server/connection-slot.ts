/**
 * A connection carried by its transport's socket object, under a symbol: one set of event
 * listeners, shared by every socket, finds the connection from `this` (the emitting socket), so
 * a connection costs no listener closures (memory per idle connection, README "Performance").
 */
export class ConnectionSlot<S extends object, C> {
  private readonly key = Symbol('portico.connection');

  attach(socket: S, conn: C): void {
    (socket as unknown as Record<symbol, C>)[this.key] = conn;
  }

  /** The connection attached to `socket` (listeners run only on sockets that have one). */
  of(socket: S): C {
    return (socket as unknown as Record<symbol, C>)[this.key]!;
  }
}
