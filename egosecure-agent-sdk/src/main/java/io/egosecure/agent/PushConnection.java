package io.egosecure.agent;

import io.egosecure.core.ValidationException;
import io.egosecure.core.wire.AgentMessages;
import io.egosecure.core.wire.Json;
import java.net.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.function.LongConsumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.java_websocket.WebSocket;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.framing.Framedata;
import org.java_websocket.handshake.ServerHandshake;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One push socket to {@code /v1/agent/notifications}. It only wakes the poller: a
 * {@code policies-changed} message calls {@code changed} with the tenant's revision; the PolicySet
 * itself always comes by poll. Java-WebSocket's lost-connection timer (a thread of its own) is off:
 * the agent's thread watches {@link #lastHeard()} instead, fed by the server's pings.
 */
final class PushConnection extends WebSocketClient {
  private static final Logger log = LoggerFactory.getLogger(PushConnection.class);
  private static final int CONNECT_TIMEOUT_MILLIS = 10_000;

  private final Clock clock;
  private final LongConsumer changed;
  private final Runnable opened;
  private final IntConsumer closed;
  private final CountDownLatch closedLatch = new CountDownLatch(1);
  private volatile Instant lastHeard;

  /**
   * @param closed called once, with the close code, however the socket ends
   */
  PushConnection(URI uri, String credential, SSLContext tls, Proxy proxy, Clock clock,
      Runnable opened, LongConsumer changed, IntConsumer closed) {
    super(uri, new org.java_websocket.drafts.Draft_6455(),
        Map.of("Authorization", "Bearer " + credential), CONNECT_TIMEOUT_MILLIS);
    this.clock = clock;
    this.opened = opened;
    this.changed = changed;
    this.closed = closed;
    this.lastHeard = clock.instant();
    setConnectionLostTimeout(0);
    setDaemon(true);
    if ("wss".equals(uri.getScheme())) {
      setSocketFactory(tls.getSocketFactory());
    }
    if (proxy != null && proxy.type() == Proxy.Type.HTTP) {
      setProxy(proxy);
    }
  }

  Instant lastHeard() {
    return lastHeard;
  }

  @Override
  protected void onSetSSLParameters(SSLParameters parameters) {
    // Java-WebSocket turns on host name checks here; keep that and allow TLS 1.2+ only.
    super.onSetSSLParameters(parameters);
    parameters.setProtocols(Tls.PROTOCOLS);
  }

  @Override
  public void onOpen(ServerHandshake handshake) {
    lastHeard = clock.instant();
    opened.run();
  }

  @Override
  public void onMessage(String message) {
    lastHeard = clock.instant();
    try {
      AgentMessages.Notification notification = Json.read(message.getBytes(StandardCharsets.UTF_8),
          AgentMessages.Notification.class, Json.Strictness.IGNORE_UNKNOWN_FIELDS);
      if (AgentMessages.Notification.POLICIES_CHANGED.equals(notification.type())) {
        changed.accept(notification.revision());
      }
    } catch (ValidationException e) {
      log.debug("ignoring a push message that is not a notification: {}", e.getMessage());
    }
  }

  @Override
  public void onWebsocketPing(WebSocket connection, Framedata frame) {
    lastHeard = clock.instant();
    super.onWebsocketPing(connection, frame);
  }

  @Override
  public void onClose(int code, String reason, boolean remote) {
    log.debug("push socket closed: {} {}", code, reason);
    closedLatch.countDown();
    closed.accept(code);
  }

  @Override
  public void onError(Exception error) {
    // onClose follows every error; that is where the agent reacts.
    log.debug("push socket error: {}", error.toString());
  }

  /** Waits for the socket to be closed, however it ends; false if it is still open after {@code timeout}. */
  boolean awaitClosed(Duration timeout) throws InterruptedException {
    return closedLatch.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
