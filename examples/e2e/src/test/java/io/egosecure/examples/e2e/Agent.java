package io.egosecure.examples.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.wire.CanonicalJson;
import io.egosecure.core.wire.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

/**
 * An agent as a third party would write one from the protocol alone: plain HTTP calls, the
 * signature checked with the JDK's Ed25519 over the RFC 8785 form. The SDK's demo agent comes later.
 */
final class Agent {
  record Poll(int status, Optional<String> etag, JsonNode body) {}

  final String id;
  final String credential;
  final PublicKey signingKey;
  private final HttpClient http;

  private Agent(String id, String credential, PublicKey signingKey, HttpClient http) {
    this.id = id;
    this.credential = credential;
    this.signingKey = signingKey;
    this.http = http;
  }

  static Agent enroll(HttpClient http, URI server, String token, String name) throws Exception {
    ObjectNode body = Json.object().put("token", token).put("name", name);
    body.putObject("labels").put("os", "linux");
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.resolve("/v1/agent/enroll"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(Json.write(body))).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    JsonNode enrolled = Json.readTree(response.body().getBytes(StandardCharsets.UTF_8));
    byte[] der = Base64.getDecoder().decode(enrolled.path("signingKeys").path(0).path("publicKey").asText());
    PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
    return new Agent(enrolled.path("agentId").asText(), enrolled.path("credential").asText(), key, http);
  }

  static Agent withCredential(HttpClient http, String id, String credential, PublicKey signingKey) {
    return new Agent(id, credential, signingKey, http);
  }

  Poll poll(URI server, String knownEtag, int waitSeconds) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(server.resolve("/v1/agent/policies?wait=" + waitSeconds))
        .timeout(Duration.ofSeconds(waitSeconds + 30))
        .header("Authorization", "Bearer " + credential);
    if (knownEtag != null) {
      request.header("If-None-Match", knownEtag);
    }
    HttpResponse<String> response = http.send(request.GET().build(), HttpResponse.BodyHandlers.ofString());
    JsonNode body = response.statusCode() == 200 ? Json.readTree(response.body().getBytes(StandardCharsets.UTF_8)) : null;
    if (body != null) {
      assertThat(verified(body)).as("signature of " + body).isTrue();
    }
    return new Poll(response.statusCode(), response.headers().firstValue("ETag"), body);
  }

  void reportApplied(URI server, long revision) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.resolve("/v1/agent/status"))
        .header("Authorization", "Bearer " + credential)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(Json.write(
            Json.object().put("revision", revision).put("state", "APPLIED").put("message", "ok"))))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(204);
  }

  private boolean verified(JsonNode set) throws Exception {
    ObjectNode unsigned = set.deepCopy();
    JsonNode signature = unsigned.remove("signature");
    Signature verifier = Signature.getInstance("Ed25519");
    verifier.initVerify(signingKey);
    verifier.update(CanonicalJson.canonicalize(unsigned));
    return verifier.verify(Base64.getDecoder().decode(signature.path("value").asText()));
  }
}
