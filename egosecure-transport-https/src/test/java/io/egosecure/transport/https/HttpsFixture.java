package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.PolicyServer;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.wire.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The real thing on loopback: a PolicyServer on an in-memory store behind the HTTPS server on
 * 127.0.0.1 and an ephemeral port, with a {@link HttpClient} that trusts its test certificate.
 */
final class HttpsFixture implements AutoCloseable {
  final TestCertificates.Identity serverIdentity;
  final PolicyServer policyServer;
  final EgoSecureHttpsServer https;
  final HttpClient client;
  final URI base;
  final String operatorKey;

  HttpsFixture() throws Exception {
    this(UnaryOperator.identity(), UnaryOperator.identity());
  }

  HttpsFixture(UnaryOperator<TlsConfig> tls, UnaryOperator<TransportLimits.Builder> limits) throws Exception {
    this(tls, limits, UnaryOperator.identity());
  }

  HttpsFixture(UnaryOperator<TlsConfig> tls, UnaryOperator<TransportLimits.Builder> limits,
      UnaryOperator<EgoSecureHttpsServer.Builder> server) throws Exception {
    serverIdentity = TestCertificates.selfSigned("localhost");
    policyServer = PolicyServer.builder().store(PolicyStore.inMemory()).masterKey(KeyVault.generateMasterKey()).build();
    policyServer.start();
    operatorKey = policyServer.bootstrapOperatorKey("bootstrap").orElseThrow().secret();
    https = server.apply(EgoSecureHttpsServer.builder(policyServer)
        .host("127.0.0.1").port(0)
        .tls(tls.apply(TlsConfig.keyStore(serverIdentity.keyStore(), TestCertificates.PASSWORD)))
        .limits(limits.apply(TransportLimits.defaults().toBuilder()).build()))
        .build();
    https.start();
    base = https.uri();
    client = client(TestCertificates.clientContext(serverIdentity, null));
  }

  static HttpClient client(SSLContext context) {
    return HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5))
        .version(HttpClient.Version.HTTP_1_1).build();
  }

  HttpRequest.Builder request(String path, String bearer) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(90));
    if (bearer != null) {
      builder.header("Authorization", "Bearer " + bearer);
    }
    return builder;
  }

  HttpResponse<String> send(HttpRequest request) throws Exception {
    return client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  HttpResponse<String> get(String path, String bearer) throws Exception {
    return send(request(path, bearer).GET().build());
  }

  HttpResponse<String> delete(String path, String bearer) throws Exception {
    return send(request(path, bearer).DELETE().build());
  }

  HttpResponse<String> post(String path, String bearer, String json) throws Exception {
    return send(request(path, bearer).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build());
  }

  HttpResponse<String> put(String path, String bearer, String json, String ifMatch) throws Exception {
    HttpRequest.Builder builder = request(path, bearer).header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(json));
    if (ifMatch != null) {
      builder.header("If-Match", ifMatch);
    }
    return send(builder.build());
  }

  /** The problem a raw answer carries, checked as AdminApiIT's assertProblem checks a client's. */
  static JsonNode rawProblem(String answer, int status) {
    assertThat(answer).startsWith("HTTP/1.1 " + status + " ");
    assertThat(answer).containsIgnoringCase("Content-Type: application/problem+json");
    JsonNode body = Json.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4).getBytes(StandardCharsets.UTF_8));
    assertThat(body.get("status").asInt()).isEqualTo(status);
    assertThat(body.get("type").asText()).startsWith("https://egosecure.io/problems/");
    assertThat(body.get("title").asText()).isNotBlank();
    assertThat(body.get("detail").asText()).isNotBlank();
    return body;
  }

  /**
   * Writes {@code head} and {@code body} as they are over a fresh TLS connection and returns what
   * the server answers, for requests no HTTP client library would send.
   */
  String raw(byte[] head, byte[] body) throws Exception {
    try (Socket plain = new Socket("127.0.0.1", https.port());
        SSLSocket socket = (SSLSocket) TestCertificates.clientContext(serverIdentity, null).getSocketFactory()
            .createSocket(plain, "localhost", https.port(), true)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(head);
      try {
        out.write(body);
        out.flush();
      } catch (IOException serverClosedEarly) {
        // The server may answer (and close) before reading a body it refuses: read that answer.
      }
      InputStream in = socket.getInputStream();
      return new String(in.readNBytes(64 * 1024), StandardCharsets.ISO_8859_1);
    } catch (SocketException e) {
      return "HTTP/1.1 400 (connection closed by the server: " + e.getMessage() + ")";
    }
  }

  static JsonNode json(HttpResponse<String> response) {
    return Json.readTree(response.body().getBytes(StandardCharsets.UTF_8));
  }

  /** A tenant, a policy for all agents published, and an enrolled agent: the usual start. */
  record Story(String tenantId, String agentCredential, String agentId, String token) {}

  Story story() throws Exception {
    String tenant = json(post("/v1/tenants", operatorKey, "{\"name\":\"Acme\"}")).get("id").asText();
    post("/v1/tenants/" + tenant + "/policies", operatorKey,
        "{\"name\":\"USB\",\"kind\":\"device-control\",\"settings\":{\"usb\":\"block\"},\"targets\":{\"all\":true}}");
    post("/v1/tenants/" + tenant + "/publish", operatorKey, "{\"comment\":\"first\"}");
    String token = json(post("/v1/tenants/" + tenant + "/enrollment-tokens", operatorKey,
        "{\"expiresInSeconds\":3600,\"maxUses\":10,\"groups\":[]}")).get("token").asText();
    JsonNode enrolled = json(post("/v1/agent/enroll", null,
        "{\"token\":\"" + token + "\",\"name\":\"host-01\",\"labels\":{\"os\":\"linux\"}}"));
    return new Story(tenant, enrolled.get("credential").asText(), enrolled.get("agentId").asText(), token);
  }

  @Override
  public void close() {
    https.close();
    policyServer.close();
  }
}
