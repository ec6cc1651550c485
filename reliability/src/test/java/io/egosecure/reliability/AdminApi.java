package io.egosecure.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.wire.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The admin API as the console speaks it: plain HTTPS calls with the operator key, every one
 * bounded by {@link #REQUEST_TIMEOUT}, so a hung server fails a test instead of stalling it.
 */
final class AdminApi {
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);

  private final HttpClient http;
  private final Supplier<URI> server;
  private final String key;

  AdminApi(HttpClient http, Supplier<URI> server, String key) {
    this.http = http;
    this.server = server;
    this.key = key;
  }

  /** An answer: status, headers and body, whatever they are. */
  record Answer(int status, java.net.http.HttpHeaders headers, String body) {
    JsonNode json() {
      return Json.readTree(body.getBytes(StandardCharsets.UTF_8));
    }

    Optional<String> header(String name) {
      return headers.firstValue(name);
    }

    Answer expect(int expected) {
      if (status != expected) {
        throw new AssertionError("expected " + expected + ", got " + status + ": " + body);
      }
      return this;
    }
  }

  /** A policy draft and the version its next {@code If-Match} must name. */
  record Draft(String id, long version) {}

  /** One entry of {@code GET /revisions}. */
  record RevisionEntry(long revision, String comment) {}

  Answer send(String method, String path, JsonNode body, String ifMatch) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(server.get().resolve(path))
        .timeout(REQUEST_TIMEOUT)
        .header("Authorization", "Bearer " + key)
        .header("Accept", "application/json");
    if (ifMatch != null) {
      request.header("If-Match", ifMatch);
    }
    if (body != null) {
      request.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofByteArray(Json.write(body)));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(response.statusCode(), response.headers(), response.body());
  }

  Answer get(String path) throws IOException, InterruptedException {
    return send("GET", path, null, null);
  }

  String createTenant(String name) throws IOException, InterruptedException {
    return send("POST", "/v1/tenants", Json.object().put("name", name), null).expect(201).json().path("id").asText();
  }

  void setPolling(String tenant, int intervalSeconds, int jitterPercent) throws IOException, InterruptedException {
    send("PUT", "/v1/tenants/" + tenant + "/polling",
        Json.object().put("intervalSeconds", intervalSeconds).put("jitterPercent", jitterPercent), null).expect(200);
  }

  String enrollmentToken(String tenant, int maxUses) throws IOException, InterruptedException {
    return send("POST", "/v1/tenants/" + tenant + "/enrollment-tokens",
        Json.object().put("expiresInSeconds", 86_400).put("maxUses", maxUses), null).expect(201).json().path("token").asText();
  }

  static ObjectNode policyBody(String name, ObjectNode settings) {
    ObjectNode body = Json.object().put("name", name).put("kind", "device-control");
    body.set("settings", settings);
    body.putObject("targets").put("all", true);
    return body;
  }

  Draft createPolicy(String tenant, String name, ObjectNode settings) throws IOException, InterruptedException {
    JsonNode created = send("POST", "/v1/tenants/" + tenant + "/policies", policyBody(name, settings), null).expect(201).json();
    return new Draft(created.path("id").asText(), created.path("version").asLong());
  }

  Draft policy(String tenant, String policyId) throws IOException, InterruptedException {
    JsonNode policy = get("/v1/tenants/" + tenant + "/policies/" + policyId).expect(200).json();
    return new Draft(policy.path("id").asText(), policy.path("version").asLong());
  }

  Answer updatePolicy(String tenant, Draft draft, String name, ObjectNode settings) throws IOException, InterruptedException {
    return send("PUT", "/v1/tenants/" + tenant + "/policies/" + draft.id(), policyBody(name, settings),
        "\"" + draft.version() + "\"");
  }

  Answer publish(String tenant, String comment) throws IOException, InterruptedException {
    return send("POST", "/v1/tenants/" + tenant + "/publish", Json.object().put("comment", comment), null);
  }

  /** Every revision, newest first, all pages. */
  List<RevisionEntry> revisions(String tenant) throws IOException, InterruptedException {
    List<RevisionEntry> all = new ArrayList<>();
    String cursor = null;
    do {
      JsonNode page = get("/v1/tenants/" + tenant + "/revisions?limit=1000" + (cursor == null ? "" : "&cursor=" + java.net.URLEncoder.encode(cursor, StandardCharsets.UTF_8)))
          .expect(200).json();
      page.path("items").forEach(item -> all.add(new RevisionEntry(item.path("revision").asLong(), item.path("comment").asText())));
      cursor = page.path("next").isTextual() ? page.path("next").asText() : null;
    } while (cursor != null);
    return all;
  }
}
