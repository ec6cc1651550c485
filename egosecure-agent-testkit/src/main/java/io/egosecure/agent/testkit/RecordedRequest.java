package io.egosecure.agent.testkit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One request as {@link FakePolicyServer} received it, whatever it answered.
 *
 * <pre>{@code
 * RecordedRequest poll = server.takeRequest(Duration.ofSeconds(5));
 * assertThat(poll.path()).isEqualTo("/v1/agent/policies");
 * assertThat(poll.header("If-None-Match")).hasValue(etagOfLastApplied);
 * }</pre>
 */
public final class RecordedRequest {
  private final String method;
  private final String path;
  private final String query;
  private final Map<String, List<String>> headers;
  private final byte[] body;
  private final String agentId;

  RecordedRequest(
      String method, String path, String query, Map<String, List<String>> headers, byte[] body,
      String agentId) {
    this.method = method;
    this.path = path;
    this.query = query == null ? "" : query;
    // Header names are case-insensitive (RFC 9110); lower case makes lookups predictable.
    TreeMap<String, List<String>> lowerCased = new TreeMap<>();
    headers.forEach(
        (name, values) ->
            lowerCased
                .computeIfAbsent(name.toLowerCase(Locale.ROOT), n -> new ArrayList<>())
                .addAll(values));
    lowerCased.replaceAll((name, values) -> List.copyOf(values));
    this.headers = Collections.unmodifiableMap(lowerCased);
    this.body = body.clone();
    this.agentId = agentId;
  }

  /** {@code GET}, {@code POST}, ... */
  public String method() {
    return method;
  }

  /** The decoded path, such as {@code /v1/agent/policies}. */
  public String path() {
    return path;
  }

  /** The raw query string without {@code ?}, such as {@code wait=30}; empty when there is none. */
  public String query() {
    return query;
  }

  /** Every header, names in lower case, values in the order received. */
  public Map<String, List<String>> headers() {
    return headers;
  }

  /** The first value of the header {@code name}, whatever its case. */
  public Optional<String> header(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  /** The body bytes (a copy); empty when there was none. */
  public byte[] body() {
    return body.clone();
  }

  public String bodyUtf8() {
    return new String(body, StandardCharsets.UTF_8);
  }

  /** The enrolled agent whose credential the request carried, revoked or not. */
  public Optional<String> agentId() {
    return Optional.ofNullable(agentId);
  }

  @Override
  public String toString() {
    return method + " " + path + (query.isEmpty() ? "" : "?" + query);
  }
}
