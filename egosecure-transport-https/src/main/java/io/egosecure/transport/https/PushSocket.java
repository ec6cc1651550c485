package io.egosecure.transport.https;

import io.egosecure.core.AgentIdentity;
import java.util.function.Consumer;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;

/**
 * One agent's push socket, on Jetty's WebSocket core rather than its WebSocket API: the API's
 * session keeps the upgrade response, which in Jetty 12.1 still reaches the whole HTTP request
 * and connection of the upgrade (about 3 KiB an idle socket for nothing). Agents send nothing
 * the server needs: every frame is dropped; core answers pings and close frames itself.
 */
final class PushSocket implements FrameHandler {
  private final AgentIdentity agent;
  private final Consumer<PushSocket> opened;
  private final Consumer<PushSocket> closed;
  private volatile CoreSession session;

  PushSocket(AgentIdentity agent, Consumer<PushSocket> opened, Consumer<PushSocket> closed) {
    this.agent = agent;
    this.opened = opened;
    this.closed = closed;
  }

  AgentIdentity agent() {
    return agent;
  }

  /** The session once open; null before. */
  CoreSession session() {
    return session;
  }

  @Override
  public void onOpen(CoreSession coreSession, Callback callback) {
    session = coreSession;
    callback.succeeded();
    opened.accept(this);
    coreSession.demand();
  }

  @Override
  public void onFrame(Frame frame, Callback callback) {
    callback.succeeded();
    session.demand();
  }

  @Override
  public void onError(Throwable cause, Callback callback) {
    callback.succeeded();
  }

  @Override
  public void onClosed(CloseStatus closeStatus, Callback callback) {
    closed.accept(this);
    callback.succeeded();
  }
}
