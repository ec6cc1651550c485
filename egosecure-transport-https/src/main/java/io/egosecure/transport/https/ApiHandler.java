package io.egosecure.transport.https;

import io.egosecure.core.ForbiddenException;
import io.egosecure.core.Principal;
import io.egosecure.core.StoreUnavailableException;
import io.egosecure.core.model.Role;
import io.egosecure.core.wire.Json;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Routes a request to its endpoint and writes the reply. Every failure of an endpoint becomes a
 * problem reply here; a parked long poll is written when its future completes, holding no thread.
 */
final class ApiHandler extends Handler.Abstract {
  private final Transport transport;
  private final Routes routes = new Routes();
  private final Set<CompletableFuture<Reply.Now>> parked = ConcurrentHashMap.newKeySet();
  private volatile boolean shuttingDown;

  ApiHandler(Transport transport) {
    this.transport = transport;
    new AgentApi(transport).register(routes);
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

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    long start = System.nanoTime();
    String method = request.getMethod();
    String path = Request.getPathInContext(request);
    Routes.Match match = routes.match(method, path);
    if (match instanceof Routes.NoRoute) {
      write(response, callback, Problems.reply(Problem.NOT_FOUND, "no resource at this path", null), "unmatched", start);
      return true;
    }
    if (match instanceof Routes.WrongMethod wrong) {
      write(response, callback, Problems.methodNotAllowed(method, wrong.allowed()), "unmatched", start);
      return true;
    }
    Routes.Found found = (Routes.Found) match;
    String route = found.route().method() + " " + found.route().pattern();
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
      write(response, callback, (Reply.Now) reply, route, start);
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
