/**
 * The in-process cluster channel: instances built in one process (tests, embedding) that share a
 * hub ask each other through it. Messages are handed over on a later turn, like a network would.
 */
import { ClusterChannelBase, type ClusterWireMessage } from './channel.js';

export class MemoryClusterHub {
  private readonly members = new Map<string, MemoryClusterChannel>();

  channel(instanceId: string): MemoryClusterChannel {
    return new MemoryClusterChannel(instanceId, this);
  }

  /** @internal */
  join(channel: MemoryClusterChannel): void {
    this.members.set(channel.instanceId, channel);
  }

  /** @internal */
  leave(channel: MemoryClusterChannel): void {
    if (this.members.get(channel.instanceId) === channel) this.members.delete(channel.instanceId);
  }

  /** @internal */
  send(to: string | null, message: ClusterWireMessage): void {
    setImmediate(() => {
      for (const [id, member] of this.members) if (to === null || to === id) member.deliver(message);
    });
  }
}

export class MemoryClusterChannel extends ClusterChannelBase {
  constructor(instanceId: string, private readonly hub: MemoryClusterHub = new MemoryClusterHub()) {
    super(instanceId);
  }

  override async start(respond: Parameters<ClusterChannelBase['start']>[0]): Promise<void> {
    await super.start(respond);
    this.hub.join(this);
  }

  override async close(): Promise<void> {
    this.hub.leave(this);
    await super.close();
  }

  /** @internal */
  deliver(message: ClusterWireMessage): void {
    this.receive(message);
  }

  protected sendRequest(message: ClusterWireMessage & { t: 'req' }): void {
    this.hub.send(null, message);
  }

  protected sendAnswer(to: string, message: ClusterWireMessage & { t: 'res' }): void {
    this.hub.send(to, message);
  }
}
