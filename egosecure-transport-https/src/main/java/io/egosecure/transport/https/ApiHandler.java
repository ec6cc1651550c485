package io.egosecure.transport.https;

import io.egosecure.core.ForbiddenException;
import io.egosecure.core.Principal;
import io.egosecure.core.StoreUnavailableException;
import io.egosecure.core.model.Role;
import io.egosecure.core.wire.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Routes a request to its endpoint and writes the reply. Every failure of an endpoint becomes a
 * problem reply here; a parked long poll is written when its future completes, holding no thread.
 */
final class ApiHandler extends Handler.Abstract {
  /** Unread bodies up to this many times the larger body limit are drained before a reply. */
  private static final long DRAIN_FACTOR = 4;

  private final Transport transport;
  private final AgentApi agentApi;
  private final Routes routes = new Routes();
  private final Set<CompletableFuture<Reply.Now>> parked = ConcurrentHashMap.newKeySet();
  private volatile boolean shuttingDown;

  ApiHandler(Transport transport) {
    this.transport = transport;
    this.agentApi = new AgentApi(transport);
    agentApi.register(routes);
    new AdminApi(transport).register(routes);
    routes
        .add("GET", "/health/live", c -> Reply.json(200, Map.of("status", "UP")))
        .add("GET", "/health/ready", c -> {
          try {
            transport.policyServer().checkReady();
            return Reply.json(200, Map.of("status", "UP"));
          } catch (StoreUnavailableException e) {
            return Reply.json(503, Map.of("status", "DOWN")).header("Retry-After", "5");
          }
        })
        .add("GET", "/metrics", c -> {
          Principal caller = c.admin();
          if (caller.role() != Role.OPERATOR) {
            throw new ForbiddenException("metrics are for operators");
          }
          return Reply.bytes(200, ByteBuffer.wrap(transport.registry().scrape().getBytes(StandardCharsets.UTF_8)))
              .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        });
  }

  Routes routes() {
    return routes;
  }

  /**
   * Answers every parked poll now (503 with Retry-After: the agent comes back to another node
   * or to this one restarted) instead of holding a graceful stop until its timeout.
   */
  void releaseParked() {
    shuttingDown = true;
    for (CompletableFuture<Reply.Now> pending : parked) {
      pending.cancel(false);
    }
  }

  /**
   * Answers a poll from memory if it can, without blocking: for the I/O thread that parsed it.
   *
   * @return false if the request is not such a poll; {@link #handle} must answer it then
   */
  boolean answerFromMemory(Request request, Response response, Callback callback) {
    if (!HttpMethod.GET.is(request.getMethod()) || !AgentApi.POLL_PATH.equals(Request.getPathInContext(request))
        || mayHaveBody(request)) {
      return false;
    }
    long start = System.nanoTime();
    Reply.Now reply;
    try {
      reply = agentApi.pollFromMemory(new Call(request, Map.of(), transport));
    } catch (Throwable failure) {
      reply = Problems.of(failure, request.getMethod(), AgentApi.POLL_PATH);
    }
    if (reply == null) {
      return false;
    }
    write(response, callback, reply, AgentApi.POLL_ROUTE, start);
    return true;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    long start = System.nanoTime();
    String method = request.getMethod();
    String path = Request.getPathInContext(request);
    Routes.Match match = routes.match(method, path);
    if (!(match instanceof Routes.Found)) {
      drainBody(request);
    }
    if (match instanceof Routes.NoRoute) {
      write(response, callback, Problems.reply(Problem.NOT_FOUND, "no resource at this path", null), "unmatched", start);
      return true;
    }
    if (match instanceof Routes.WrongMethod wrong) {
      write(response, callback, Problems.methodNotAllowed(method, wrong.allowed()), "unmatched", start);
      return true;
    }
    Routes.Found found = (Routes.Found) match;
    String route = found.route().name();
    Reply reply;
    try {
      reply = found.route().endpoint().handle(new Call(request, found.parameters(), transport));
    } catch (Throwable failure) {
      reply = Problems.of(failure, method, path);
    }
    if (reply instanceof Reply.Later later) {
      CompletableFuture<Reply.Now> pending = later.reply();
      if (shuttingDown) {
        pending.cancel(false);
      } else {
        parked.add(pending);
      }
      pending.whenComplete((now, failure) -> {
        parked.remove(pending);
        write(response, callback, failure == null ? now : Problems.of(failure, method, path), route, start);
      });
    } else {
      drainBody(request);
      write(response, callback, (Reply.Now) reply, route, start);
    }
    return true;
  }

  /**
   * Reads and discards what is left of the request body, up to a bound. A reply sent while the
   * client is still sending (a 401, 404 or 413 answered before the body was read) is otherwise
   * lost: the server closes a connection with unread content, and the client's pending bytes turn
   * the close into a reset before it reads the answer. Larger bodies are left unread.
   */
  private void drainBody(Request request) {
    long declared = request.getLength();
    long bound = DRAIN_FACTOR * Math.max(
        transport.limits().maxAdminBodyBytes(), transport.limits().maxAgentBodyBytes());
    if (!mayHaveBody(request) || declared > bound) {
      return;
    }
    try (InputStream in = Request.asInputStream(request)) {
      long left = bound;
      byte[] buffer = new byte[8192];
      int read;
      while (left > 0 && (read = in.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0) {
        left -= read;
      }
    } catch (IOException e) {
      // The client went away; nothing will read the answer either.
    }
  }

  /**
   * Whether the request can carry a body. HTTP/1 says so in its headers (a length above zero, or
   * chunks); HTTP/2 and 3 need neither, so there any request may.
   */
  static boolean mayHaveBody(Request request) {
    long declared = request.getLength();
    if (declared >= 0) {
      return declared > 0;
    }
    HttpVersion version = request.getConnectionMetaData().getHttpVersion();
    if (version == HttpVersion.HTTP_1_1 || version == HttpVersion.HTTP_1_0) {
      return request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING);
    }
    return true;
  }

  private void write(Response response, Callback callback, Reply.Now reply, String route, long start) {
    response.setStatus(reply.status());
    reply.headers().forEach((name, value) -> response.getHeaders().put(name, value));
    ByteBuffer body = reply.raw();
    if (body == null && reply.body() != null) {
      body = ByteBuffer.wrap(Json.write(reply.body()));
    }
    if (body != null && !reply.headers().containsKey("Content-Type")) {
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    }
    transport.timed(route, reply.status(), System.nanoTime() - start);
    response.write(true, body == null ? ByteBuffer.allocate(0) : body, callback);
  }
}
