package io.egosecure.transport.https;

import io.egosecure.core.ForbiddenException;
import io.egosecure.core.NotFoundException;
import io.egosecure.core.StoreUnavailableException;
import io.egosecure.core.UnauthenticatedException;
import io.egosecure.core.ValidationException;
import io.egosecure.core.VersionConflictException;
import io.egosecure.core.wire.Json;
import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place that turns a failure into an RFC 9457 {@code application/problem+json} reply. */
final class Problems {
  private static final Logger log = LoggerFactory.getLogger(Problems.class);
  static final String CONTENT_TYPE = "application/problem+json";
  private static final long STORE_RETRY_SECONDS = 5;
  private static final AtomicLong REQUEST_IDS = new AtomicLong();

  private Problems() {}

  /** The problem body. {@code requestId} only on 500s, to find the logged cause. */
  record Body(String type, String title, int status, String detail, String requestId) {}

  static Reply.Now of(Throwable failure, String method, String path) {
    Throwable cause = unwrap(failure);
    if (cause instanceof CancellationException) {
      // A parked poll released by a stopping server (or abandoned by its client).
      return reply(Problem.OVERLOADED, "the server is stopping; poll again", null).header("Retry-After", "1");
    }
    if (cause instanceof HttpProblem http) {
      Reply.Now reply = reply(http.problem, http.getMessage(), null);
      http.headers.forEach(reply::header);
      return reply;
    }
    if (cause instanceof ValidationException e) {
      return reply(Problem.INVALID_REQUEST, e.getMessage(), null);
    }
    if (cause instanceof UnauthenticatedException e) {
      return reply(Problem.UNAUTHENTICATED, e.getMessage(), null)
          .header("WWW-Authenticate", "Bearer realm=\"egosecure\"");
    }
    if (cause instanceof ForbiddenException e) {
      return reply(Problem.FORBIDDEN, e.getMessage(), null);
    }
    if (cause instanceof NotFoundException e) {
      return reply(Problem.NOT_FOUND, "no " + e.getMessage() + " that you may see", null);
    }
    if (cause instanceof VersionConflictException e) {
      return reply(Problem.PRECONDITION_FAILED, e.getMessage(), null)
          .header("ETag", "\"" + e.currentVersion() + "\"");
    }
    if (cause instanceof HttpException jetty && jetty.getCode() >= 400 && jetty.getCode() < 500) {
      // Jetty's own verdict on the request (a bad escape, a bad header): the client's fault.
      return reply(forStatus(jetty.getCode()), "the request is malformed: " + Call.clip(jetty.getReason()), null);
    }
    if (cause instanceof StoreUnavailableException e) {
      log.warn("{} {}: {}", method, path, e.getMessage());
      return reply(Problem.STORE_UNAVAILABLE, "the store is unavailable; try again shortly", null)
          .header("Retry-After", Long.toString(STORE_RETRY_SECONDS));
    }
    String requestId = Long.toString(REQUEST_IDS.incrementAndGet(), 36) + "-" + Long.toString(System.nanoTime() & 0xffffff, 36);
    log.error("{} {} failed (request {})", method, path, requestId, cause);
    return reply(Problem.INTERNAL, "an unexpected error; the server log has it under request id " + requestId, requestId);
  }

  static Reply.Now reply(Problem problem, String detail, String requestId) {
    Body body = new Body(problem.type(), problem.title, problem.status, detail, requestId);
    return Reply.bytes(problem.status, ByteBuffer.wrap(Json.write(body)))
        .header("Content-Type", CONTENT_TYPE)
        .header("Cache-Control", "no-store");
  }

  static Reply.Now methodNotAllowed(String method, Iterable<String> allowed) {
    return reply(Problem.METHOD_NOT_ALLOWED, method + " is not allowed here", null)
        .header("Allow", String.join(", ", allowed));
  }

  /** The problem for a status Jetty itself answers (a bad URI, headers too large). */
  static Problem forStatus(int status) {
    for (Problem problem : Problem.values()) {
      if (problem.status == status) {
        return problem;
      }
    }
    return status >= 500 ? Problem.INTERNAL : Problem.INVALID_REQUEST;
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

}
