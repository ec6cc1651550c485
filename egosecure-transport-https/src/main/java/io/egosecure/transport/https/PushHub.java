package io.egosecure.transport.https;

import io.egosecure.core.AgentIdentity;
import io.egosecure.core.PolicyServerListener;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.wire.AgentMessages;
import io.egosecure.core.wire.Json;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The push channel's sockets, by tenant. A publish sends {@code policies-changed} to every socket
 * of the tenant, split over the executor (a send encrypts and writes on the calling thread, so one
 * thread would make the last agent wait for all others) into at most one slice per core: more
 * senders than cores only take turns, and switching among them delays every slice's tail. Each
 * broadcast is timed from the hub being told of the revision to the last send's completion, the
 * server's own part of an agent's wait (its receipt adds the network and the agent). A
 * revocation closes the agent's sockets.
 */
final class PushHub implements PolicyServerListener {
  private static final Logger log = LoggerFactory.getLogger(PushHub.class);
  static final int POLICY_VIOLATION = 1008;
  static final int NORMAL = 1000;
  /** Fewer sockets than this are sent by one task: a hand-off costs more than sending them. */
  static final int MIN_SLICE = 500;

  private final ConcurrentMap<TenantId, ConcurrentMap<AgentId, PushSocket>> byTenant = new ConcurrentHashMap<>();
  private final AtomicInteger open = new AtomicInteger();
  private final Function<AgentIdentity, OptionalLong> currentRevision;
  private final int senders;
  private final Timer broadcasts;
  private volatile Executor executor = Runnable::run;

  /**
   * @param currentRevision the agent's tenant's revision if the agent is still enrolled, empty if
   *     not; asked when its socket opens
   * @param broadcasts records each broadcast's time until its last send completed
   */
  PushHub(Function<AgentIdentity, OptionalLong> currentRevision, Timer broadcasts) {
    this(currentRevision, Runtime.getRuntime().availableProcessors(), broadcasts);
  }

  /** @param senders the most tasks one publish is split into */
  PushHub(Function<AgentIdentity, OptionalLong> currentRevision, int senders, Timer broadcasts) {
    if (senders < 1) {
      throw new IllegalArgumentException("senders cannot be less than 1, was " + senders);
    }
    this.currentRevision = currentRevision;
    this.senders = senders;
    this.broadcasts = broadcasts;
  }

  void executor(Executor executor) {
    this.executor = executor;
  }

  int openSockets() {
    return open.get();
  }

  PushSocket socketFor(AgentIdentity agent) {
    return new PushSocket(agent, this::opened, this::closed);
  }

  /**
   * One socket per agent: a newer connection replaces the older one, so the sockets a node holds
   * are bounded by the agents enrolled, not by how often one agent connects. An agent revoked
   * between its upgrade and now is closed at once; any other is told the tenant's revision, read
   * after the socket joined the hub so that a publish in between is sent too: an agent that
   * reconnects learns from it whether it missed a publish, without a poll (and its handshake).
   */
  private void opened(PushSocket socket) {
    AgentIdentity agent = identity(socket);
    PushSocket previous = byTenant.computeIfAbsent(agent.tenantId(), t -> new ConcurrentHashMap<>())
        .put(agent.agentId(), socket);
    open.incrementAndGet();
    if (previous != null) {
      open.decrementAndGet();
      close(previous, NORMAL, "replaced by a newer connection");
    }
    OptionalLong revision = currentRevision.apply(agent);
    if (revision.isEmpty()) {
      close(socket, POLICY_VIOLATION, "credential revoked");
      return;
    }
    CoreSession session = socket.session();
    ByteBuffer greeting = ByteBuffer.wrap(Json.write(AgentMessages.Notification.policiesChanged(revision.getAsLong())));
    session.sendFrame(new Frame(OpCode.TEXT, greeting), Callback.NOOP, false);
  }

  private void closed(PushSocket socket) {
    AgentIdentity agent = identity(socket);
    ConcurrentMap<AgentId, PushSocket> sockets = byTenant.get(agent.tenantId());
    if (sockets != null && sockets.remove(agent.agentId(), socket)) {
      open.decrementAndGet();
    }
  }

  private static void close(PushSocket socket, int status, String reason) {
    CoreSession session = socket.session();
    if (session != null && session.isOutputOpen()) {
      session.close(status, reason, Callback.NOOP);
    }
  }

  private static AgentIdentity identity(PushSocket socket) {
    return socket.agent();
  }

  @Override
  public void revisionPublished(TenantId tenant, long revision) {
    long told = System.nanoTime();
    ConcurrentMap<AgentId, PushSocket> sockets = byTenant.get(tenant);
    if (sockets == null || sockets.isEmpty()) {
      return;
    }
    // One read-only payload for all; each frame gets its own view of it (its own position).
    ByteBuffer message = ByteBuffer.wrap(Json.write(AgentMessages.Notification.policiesChanged(revision))).asReadOnlyBuffer();
    List<PushSocket> all = new ArrayList<>(sockets.values());
    Broadcast broadcast = new Broadcast(told, all.size());
    int slices = Math.max(1, Math.min(senders, all.size() / MIN_SLICE));
    int from = 0;
    for (int slice = 0; slice < slices; slice++) {
      int to = from + (all.size() - from) / (slices - slice);
      send(all.subList(from, to), message, broadcast);
      from = to;
    }
  }

  private void send(List<PushSocket> batch, ByteBuffer message, Broadcast broadcast) {
    executor.execute(() -> {
      for (PushSocket socket : batch) {
        CoreSession session = socket.session();
        if (session != null && session.isOutputOpen()) {
          session.sendFrame(new Frame(OpCode.TEXT, message.slice()), new Sent(socket, broadcast), false);
        } else {
          broadcast.completed();
        }
      }
    });
  }

  /** One publish's sends, counted down as they complete: the last one records the broadcast. */
  private final class Broadcast {
    private final long told;
    private final AtomicInteger pending;

    Broadcast(long told, int sends) {
      this.told = told;
      this.pending = new AtomicInteger(sends);
    }

    void completed() {
      if (pending.decrementAndGet() == 0) {
        broadcasts.record(System.nanoTime() - told, TimeUnit.NANOSECONDS);
      }
    }
  }

  /** A send's completion; a failed send (the agent went away) still ends its part of the broadcast. */
  private static final class Sent implements Callback {
    private final PushSocket socket;
    private final Broadcast broadcast;

    Sent(PushSocket socket, Broadcast broadcast) {
      this.socket = socket;
      this.broadcast = broadcast;
    }

    /** Counting down never blocks: Jetty may complete it on the selector, without a hand-off. */
    @Override
    public InvocationType getInvocationType() {
      return InvocationType.NON_BLOCKING;
    }

    @Override
    public void succeeded() {
      broadcast.completed();
    }

    @Override
    public void failed(Throwable failure) {
      log.debug("push to {} failed: {}", identity(socket).agentId(), failure.toString());
      broadcast.completed();
    }
  }

  @Override
  public void agentRevoked(TenantId tenant, AgentId agent) {
    ConcurrentMap<AgentId, PushSocket> sockets = byTenant.get(tenant);
    PushSocket socket = sockets == null ? null : sockets.get(agent);
    if (socket != null) {
      close(socket, POLICY_VIOLATION, "credential revoked");
    }
  }

  /** Pings every socket, keeping NAT bindings and proxies open and finding dead peers. */
  void pingAll() {
    for (ConcurrentMap<AgentId, PushSocket> sockets : byTenant.values()) {
      for (PushSocket socket : sockets.values()) {
        CoreSession session = socket.session();
        if (session != null && session.isOutputOpen()) {
          session.sendFrame(new Frame(OpCode.PING), Callback.NOOP, false);
        }
      }
    }
  }
}
