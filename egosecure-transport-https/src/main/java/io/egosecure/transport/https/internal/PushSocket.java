package io.egosecure.transport.https.internal;

import java.util.function.Consumer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/**
 * One agent's push socket. Public only because Jetty instantiates listeners reflectively; not
 * API. Agents send nothing the server needs: text they send is ignored.
 */
public final class PushSocket extends Session.Listener.AbstractAutoDemanding {
  private final Object owner;
  private final Consumer<PushSocket> opened;
  private final Consumer<PushSocket> closed;

  /**
   * @param owner what the transport attaches to this socket (the authenticated agent)
   */
  public PushSocket(Object owner, Consumer<PushSocket> opened, Consumer<PushSocket> closed) {
    this.owner = owner;
    this.opened = opened;
    this.closed = closed;
  }

  public Object owner() {
    return owner;
  }

  @Override
  public void onWebSocketOpen(Session session) {
    super.onWebSocketOpen(session);
    opened.accept(this);
  }

  @Override
  public void onWebSocketClose(int statusCode, String reason, Callback callback) {
    closed.accept(this);
    callback.succeed();
  }

  @Override
  public void onWebSocketError(Throwable cause) {
    closed.accept(this);
  }
}
