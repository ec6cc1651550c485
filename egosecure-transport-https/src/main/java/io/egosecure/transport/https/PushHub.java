package io.egosecure.transport.https;

import io.egosecure.core.AgentIdentity;
import io.egosecure.core.PolicyServerListener;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.wire.AgentMessages;
import io.egosecure.core.wire.Json;
import io.egosecure.transport.https.internal.PushSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The push channel's sockets, by tenant. A publish sends {@code policies-changed} to every socket
 * of the tenant, in batches spread over the executor (a send encrypts and writes on the calling
 * thread, so one thread would make the last agent wait for all others); a revocation closes the
 * agent's sockets.
 */
final class PushHub implements PolicyServerListener {
  private static final Logger log = LoggerFactory.getLogger(PushHub.class);
  static final int POLICY_VIOLATION = 1008;
  private static final int BATCH = 500;

  private final ConcurrentMap<TenantId, Set<PushSocket>> byTenant = new ConcurrentHashMap<>();
  private final AtomicInteger open = new AtomicInteger();
  private volatile Executor executor = Runnable::run;

  void executor(Executor executor) {
    this.executor = executor;
  }

  int openSockets() {
    return open.get();
  }

  PushSocket socketFor(AgentIdentity agent) {
    return new PushSocket(agent, this::opened, this::closed);
  }

  private void opened(PushSocket socket) {
    byTenant.computeIfAbsent(identity(socket).tenantId(), t -> ConcurrentHashMap.newKeySet()).add(socket);
    open.incrementAndGet();
  }

  private void closed(PushSocket socket) {
    Set<PushSocket> sockets = byTenant.get(identity(socket).tenantId());
    if (sockets != null && sockets.remove(socket)) {
      open.decrementAndGet();
    }
  }

  private static AgentIdentity identity(PushSocket socket) {
    return (AgentIdentity) socket.owner();
  }

  @Override
  public void revisionPublished(TenantId tenant, long revision) {
    Set<PushSocket> sockets = byTenant.get(tenant);
    if (sockets == null || sockets.isEmpty()) {
      return;
    }
    String message = new String(Json.write(AgentMessages.Notification.policiesChanged(revision)), StandardCharsets.UTF_8);
    List<PushSocket> batch = new ArrayList<>(BATCH);
    for (PushSocket socket : sockets) {
      batch.add(socket);
      if (batch.size() == BATCH) {
        send(List.copyOf(batch), message);
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      send(List.copyOf(batch), message);
    }
  }

  private void send(List<PushSocket> batch, String message) {
    executor.execute(() -> {
      for (PushSocket socket : batch) {
        Session session = socket.getSession();
        if (session != null && session.isOpen()) {
          session.sendText(message, Callback.from(() -> { }, failure ->
              log.debug("push to {} failed: {}", identity(socket).agentId(), failure.toString())));
        }
      }
    });
  }

  @Override
  public void agentRevoked(TenantId tenant, AgentId agent) {
    Set<PushSocket> sockets = byTenant.get(tenant);
    if (sockets == null) {
      return;
    }
    for (PushSocket socket : sockets) {
      if (identity(socket).agentId().equals(agent) && socket.getSession() != null) {
        socket.getSession().close(POLICY_VIOLATION, "credential revoked", Callback.NOOP);
      }
    }
  }

  /** Pings every socket, keeping NAT bindings and proxies open and finding dead peers. */
  void pingAll() {
    for (Set<PushSocket> sockets : byTenant.values()) {
      for (PushSocket socket : sockets) {
        Session session = socket.getSession();
        if (session != null && session.isOpen()) {
          session.sendPing(ByteBuffer.allocate(0), Callback.NOOP);
        }
      }
    }
  }
}
