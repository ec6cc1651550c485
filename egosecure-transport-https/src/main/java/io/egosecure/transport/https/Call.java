package io.egosecure.transport.https;

import io.egosecure.core.AgentIdentity;
import io.egosecure.core.NotFoundException;
import io.egosecure.core.Principal;
import io.egosecure.core.ValidationException;
import io.egosecure.core.model.SecretHash;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.wire.Json;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;

/**
 * One request as an endpoint sees it: its path parameters, query, headers and body, and the
 * caller it authenticates. Every read is bounded and every bad value becomes a 4xx problem.
 */
final class Call {
  /** The request attribute holding an agent authenticated and rate-limited for this request. */
  static final String AUTHENTICATED_AGENT = "io.egosecure.transport.https.agent";

  private final Request request;
  private final Map<String, String> pathParameters;
  private final Transport transport;
  private Fields query;

  Call(Request request, Map<String, String> pathParameters, Transport transport) {
    this.request = request;
    this.pathParameters = pathParameters;
    this.transport = transport;
  }

  Request request() {
    return request;
  }

  // --- authentication ---

  /** The admin caller, rate-limited per key. */
  Principal admin() {
    Principal principal = transport.policyServer().authenticateAdmin(bearer());
    limit(transport.adminLimiter(), principal.keyId().value());
    return principal;
  }

  /**
   * The agent caller, rate-limited per agent. A poll the I/O thread began (see {@link
   * AgentApi#pollFromMemory}) was authenticated and charged there already.
   */
  AgentIdentity agent() {
    if (request.getAttribute(AUTHENTICATED_AGENT) instanceof AgentIdentity charged) {
      return charged;
    }
    AgentIdentity agent = transport.policyServer().authenticateAgent(bearer());
    limit(transport.agentLimiter(), agent.agentId().value());
    return agent;
  }

  /**
   * The agent caller if this node holds it, from memory, rate-limited; empty if only the store
   * could tell (or nobody). Never blocks. The identity is kept on the request for {@link #agent()}.
   */
  Optional<AgentIdentity> knownAgent() {
    Optional<AgentIdentity> agent = transport.policyServer().authenticateKnownAgent(bearer());
    if (agent.isPresent()) {
      limit(transport.agentLimiter(), agent.get().agentId().value());
      request.setAttribute(AUTHENTICATED_AGENT, agent.get());
    }
    return agent;
  }

  /** Rate-limits an enrollment by its token, keyed by the token's hash. */
  void limitEnrollment(String token) {
    limit(transport.enrollLimiter(), HexFormat.of().formatHex(SecretHash.of(token).bytes()));
  }

  private static void limit(RateLimiter limiter, String key) {
    Optional<Duration> wait = limiter.acquire(key);
    if (wait.isPresent()) {
      throw HttpProblem.retryAfter(Problem.RATE_LIMITED,
          "rate limit exceeded; retry after " + wait.get().toMillis() + " ms",
          (wait.get().toMillis() + 999) / 1000);
    }
  }

  /** The bearer secret, or an empty string that no credential matches. */
  String bearer() {
    String authorization = request.getHeaders().get(HttpHeader.AUTHORIZATION);
    if (authorization == null) {
      return "";
    }
    String value = authorization.strip();
    if (value.length() > 7 && value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return value.substring(7).strip();
    }
    return "";
  }

  // --- request parts ---

  String path(String name) {
    return pathParameters.get(name);
  }

  /** A path id, parsed; a malformed one names nothing, so it is a 404 like any unknown id. */
  <T> T pathId(String name, Function<String, T> parser, String what) {
    try {
      return parser.apply(path(name));
    } catch (ValidationException e) {
      throw new NotFoundException(what + " " + path(name));
    }
  }

  Optional<String> header(HttpHeader header) {
    return Optional.ofNullable(request.getHeaders().get(header));
  }

  Optional<String> query(String name) {
    if (query == null) {
      try {
        query = Request.extractQueryParameters(request);
      } catch (IllegalArgumentException e) {
        // Jetty's 400 for a bad %-escape; uncaught it became a 500 (found by FuzzIT).
        throw new ValidationException("query", "is not valid percent-encoded UTF-8");
      }
    }
    Fields.Field field = query.get(name);
    if (field == null) {
      return Optional.empty();
    }
    if (field.getValues().size() > 1) {
      throw new ValidationException(name, "is given more than once");
    }
    return Optional.of(field.getValue());
  }

  long queryLong(String name, long min, long max, long fallback) {
    Optional<String> value = query(name);
    if (value.isEmpty()) {
      return fallback;
    }
    long parsed;
    try {
      parsed = Long.parseLong(value.get());
    } catch (NumberFormatException e) {
      throw new ValidationException(name, "must be a whole number, was '" + clip(value.get()) + "'");
    }
    if (parsed < min || parsed > max) {
      throw new ValidationException(name, "must be " + min + " to " + max + ", was " + parsed);
    }
    return parsed;
  }

  Optional<Instant> queryInstant(String name) {
    return query(name).map(value -> {
      try {
        return Instant.parse(value);
      } catch (DateTimeParseException e) {
        throw new ValidationException(name, "must be an RFC 3339 UTC time, was '" + clip(value) + "'");
      }
    });
  }

  PageRequest page() {
    int limit = (int) queryLong("limit", 1, PageRequest.MAX_LIMIT, PageRequest.DEFAULT_LIMIT);
    return new PageRequest(query("cursor"), limit);
  }

  // --- body ---

  /** The JSON body as {@code type}; admin requests reject unknown fields, agent requests ignore them. */
  <T> T body(Class<T> type, Json.Strictness strictness, long maxBytes) {
    return Json.read(bodyBytes(maxBytes, false), type, strictness);
  }

  /** The JSON body as {@code type}, or {@code ifAbsent} when the request has no body at all. */
  <T> T optionalBody(Class<T> type, Json.Strictness strictness, long maxBytes, T ifAbsent) {
    byte[] bytes = bodyBytes(maxBytes, true);
    return bytes.length == 0 ? ifAbsent : Json.read(bytes, type, strictness);
  }

  private byte[] bodyBytes(long maxBytes, boolean mayBeEmpty) {
    long declared = request.getLength();
    if (declared > maxBytes) {
      // ApiHandler drains what it can before answering, so the client reads this 413.
      throw new HttpProblem(Problem.PAYLOAD_TOO_LARGE,
          "the body is " + declared + " bytes; the limit is " + maxBytes);
    }
    boolean hasBody = declared > 0
        || (declared < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING));
    if (hasBody) {
      String contentType = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
      if (contentType == null || !isJson(contentType)) {
        throw new HttpProblem(Problem.UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json, was " + (contentType == null ? "absent" : "'" + clip(contentType) + "'"));
      }
    }
    byte[] bytes;
    try (InputStream in = Request.asInputStream(request)) {
      bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
    } catch (IOException e) {
      throw new HttpProblem(Problem.INVALID_REQUEST, "the body could not be read: " + clip(String.valueOf(e.getMessage())));
    }
    if (bytes.length > maxBytes) {
      throw new HttpProblem(Problem.PAYLOAD_TOO_LARGE, "the body is over the limit of " + maxBytes + " bytes");
    }
    if (bytes.length == 0 && !mayBeEmpty) {
      throw new ValidationException("/", "a JSON body is required");
    }
    return bytes;
  }

  private static boolean isJson(String contentType) {
    String mediaType = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    return mediaType.equals("application/json");
  }

  static String clip(String value) {
    String printable = value.replaceAll("\\p{Cntrl}", "?");
    return printable.length() <= 100 ? printable : printable.substring(0, 100) + "…";
  }
}
