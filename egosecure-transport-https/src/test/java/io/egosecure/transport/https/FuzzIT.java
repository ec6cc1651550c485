package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Malformed requests of every kind, written raw over TLS so nothing in a client library cleans
 * them up: never a 5xx, never a stack trace, and the server still answers after.
 */
class FuzzIT {
  private static final int REQUESTS = 600;
  private final HttpsFixture fx;
  private final Random random = new Random(20261204);

  FuzzIT() throws Exception {
    fx = new HttpsFixture(tls -> tls, limits -> limits
        .agentRate(new RateLimit(10_000, 10_000)).adminRate(new RateLimit(10_000, 10_000))
        .enrollRate(new RateLimit(10_000, 10_000)));
  }

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void malformedRequestsNeverAnswer5xx() throws Exception {
    HttpsFixture.Story story = fx.story();
    String[] paths = {"/v1/agent/enroll", "/v1/agent/policies", "/v1/agent/status", "/v1/tenants",
        "/v1/tenants/" + story.tenantId() + "/policies", "/v1/tenants/" + story.tenantId() + "/publish",
        "/v1/tenants/" + story.tenantId() + "/polling", "/v1/admin-keys", "/v1/tenants/%zz", "/v1/tenants/%00",
        "/v1/../etc/passwd", "/v1/tenants/" + "x".repeat(300), "/v1/agent/policies?wait=%", "/metrics",
        "/v1/tenants/" + story.tenantId() + "/agents?lastSeenBefore=%ff", "//", "/v1/agent/notifications"};
    String[] methods = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO", "HEAD"};
    String[] credentials = {fx.operatorKey, story.agentCredential(), "x", ""};
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      String method = methods[random.nextInt(methods.length)];
      String path = paths[random.nextInt(paths.length)];
      byte[] body = body(i);
      StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n")
          .append("Host: localhost\r\n");
      String credential = credentials[random.nextInt(credentials.length)];
      if (!credential.isEmpty()) {
        head.append("Authorization: Bearer ").append(credential).append("\r\n");
      }
      switch (i % 7) {
        case 0 -> head.append("Content-Type: application/json\r\n");
        case 1 -> head.append("Content-Type: text/plain\r\n");
        case 2 -> head.append("X-Huge: ").append("h".repeat(20_000)).append("\r\n");
        case 3 -> head.append("If-Match: ").append("\"\u00ff\"").append("\r\n");
        case 4 -> head.append("Content-Type: application/json; charset=latin1\r\n");
        default -> { }
      }
      head.append("Content-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
      String answer = fx.raw(head.toString().getBytes(StandardCharsets.ISO_8859_1), body);
      int status = statusOf(answer);
      if (status >= 500 || status == 0 || answer.contains("Exception") || answer.contains("\tat ")) {
        failures.add(method + " " + path + " #" + i + " -> " + answer.lines().findFirst().orElse("(nothing)"));
      }
    }
    assertThat(failures).isEmpty();
    assertThat(fx.get("/health/live", null).statusCode()).isEqualTo(200);
    assertThat(fx.get("/v1/agent/policies", story.agentCredential()).statusCode()).isEqualTo(200);
  }

  private byte[] body(int i) {
    return switch (i % 5) {
      case 0 -> {
        byte[] noise = new byte[random.nextInt(2000)];
        random.nextBytes(noise);
        yield noise;
      }
      case 1 -> "{\"name\":".getBytes(StandardCharsets.UTF_8);
      case 2 -> "{\"token\":123,\"name\":[],\"labels\":\"x\",\"revision\":\"7\",\"state\":null}".getBytes(StandardCharsets.UTF_8);
      case 3 -> ("[" + "[".repeat(5000) + "]".repeat(5000) + "]").getBytes(StandardCharsets.UTF_8);
      default -> new byte[0];
    };
  }

  private static int statusOf(String answer) {
    if (!answer.startsWith("HTTP/1.1 ")) {
      return 0;
    }
    return Integer.parseInt(answer.substring(9, 12));
  }
}
