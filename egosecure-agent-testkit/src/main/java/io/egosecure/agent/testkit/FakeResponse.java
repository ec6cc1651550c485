package io.egosecure.agent.testkit;

import io.egosecure.core.wire.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * A scripted answer for {@link FakePolicyServer#enqueue}: it replaces what the fake server would
 * have answered to the next agent-API request (or the next one to {@link #forPath a given path}).
 * Immutable: every method returns a new response.
 *
 * <pre>{@code
 * server.enqueue(FakeResponse.status(503).retryAfter(Duration.ofSeconds(2)));
 * server.enqueue(FakeResponse.policySet(tamperedBytes).forPath(FakePolicyServer.POLICIES_PATH));
 * }</pre>
 */
public final class FakeResponse {
  static final String JSON = "application/json";
  static final String PROBLEM_JSON = "application/problem+json";
  static final String PROBLEM_TYPE_PREFIX = "https://egosecure.io/problems/";

  private final int status;
  private final Map<String, List<String>> headers;
  private final byte[] body;
  private final String path;
  private final boolean withPollHeaders;

  private FakeResponse(
      int status, Map<String, List<String>> headers, byte[] body, String path,
      boolean withPollHeaders) {
    this.status = status;
    this.headers = headers;
    this.body = body;
    this.path = path;
    this.withPollHeaders = withPollHeaders;
  }

  /**
   * An answer with this status. From 400 on it carries an {@code application/problem+json} body
   * (type, title, status, detail) as the real server's errors do; below 400 it has no body.
   */
  public static FakeResponse status(int status) {
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException("status must be 200 to 599, was " + status);
    }
    if (status < 400) {
      return new FakeResponse(status, new LinkedHashMap<>(), new byte[0], null, false);
    }
    return problem(status, "scripted", "A scripted error", "scripted by the test with FakeResponse");
  }

  /**
   * {@code 200} with exactly these bytes as the PolicySet, a fresh ETag, {@code Cache-Control:
   * no-store} and the server's poll headers: how to hand an agent a crafted or tampered set.
   */
  public static FakeResponse policySet(byte[] body) {
    Objects.requireNonNull(body, "body == null");
    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("Content-Type", List.of(JSON));
    headers.put("ETag", List.of("\"scripted-" + UUID.randomUUID() + "\""));
    headers.put("Cache-Control", List.of("no-store"));
    return new FakeResponse(200, headers, body.clone(), null, true);
  }

  /** Adds a header value (after any this response already has under that name). */
  public FakeResponse header(String name, String value) {
    Objects.requireNonNull(name, "name == null");
    Objects.requireNonNull(value, "value == null");
    Map<String, List<String>> copy = copyHeaders();
    copy.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
    return new FakeResponse(status, copy, body, path, withPollHeaders);
  }

  /** {@code Retry-After} in whole seconds, as 429 and 503 carry it. */
  public FakeResponse retryAfter(Duration delay) {
    Objects.requireNonNull(delay, "delay == null");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, was " + delay);
    }
    return header("Retry-After", Long.toString(delay.toSeconds()));
  }

  /** Replaces the body and its {@code Content-Type}: anything, valid or not. */
  public FakeResponse body(String contentType, byte[] body) {
    Objects.requireNonNull(contentType, "contentType == null");
    Objects.requireNonNull(body, "body == null");
    Map<String, List<String>> copy = copyHeaders();
    copy.keySet().removeIf(name -> name.equalsIgnoreCase("Content-Type"));
    copy.put("Content-Type", List.of(contentType));
    return new FakeResponse(status, copy, body.clone(), path, withPollHeaders);
  }

  /**
   * Serves this response only to a request for {@code path} (such as {@link
   * FakePolicyServer#POLICIES_PATH}); requests to other paths get the normal answer meanwhile. Use
   * it where an agent's status report and its next poll may race.
   */
  public FakeResponse forPath(String path) {
    Objects.requireNonNull(path, "path == null");
    return new FakeResponse(status, headers, body, path, withPollHeaders);
  }

  static FakeResponse problem(int status, String slug, String title, String detail) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("Content-Type", List.of(PROBLEM_JSON));
    headers.put("Cache-Control", List.of("no-store"));
    byte[] body = Json.write(new Problem(PROBLEM_TYPE_PREFIX + slug, title, status, detail));
    return new FakeResponse(status, headers, body, null, false);
  }

  static FakeResponse json(int status, byte[] body) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("Content-Type", List.of(JSON));
    headers.put("Cache-Control", List.of("no-store"));
    return new FakeResponse(status, headers, body, null, false);
  }

  /** RFC 9457 members, in the order the real server writes them. */
  record Problem(String type, String title, int status, String detail) {}

  int statusCode() {
    return status;
  }

  Map<String, List<String>> headers() {
    return headers;
  }

  byte[] bodyBytes() {
    return body;
  }

  boolean matches(String requestPath) {
    return path == null || path.equals(requestPath);
  }

  boolean withPollHeaders() {
    return withPollHeaders;
  }

  Optional<String> firstHeader(String name) {
    return headers.entrySet().stream()
        .filter(e -> e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty())
        .map(e -> e.getValue().get(0))
        .findFirst();
  }

  private Map<String, List<String>> copyHeaders() {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    headers.forEach((name, values) -> copy.put(name, new ArrayList<>(values)));
    return copy;
  }

  @Override
  public String toString() {
    return "FakeResponse[" + status + (path == null ? "" : " for " + path) + ", "
        + new String(body, 0, Math.min(body.length, 80), StandardCharsets.UTF_8) + "]";
  }
}
