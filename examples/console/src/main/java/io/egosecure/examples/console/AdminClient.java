package io.egosecure.examples.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.egosecure.core.wire.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The admin API over {@link HttpClient}: a bearer admin key, JSON in and out, and every error
 * answer turned into an {@link ApiException} carrying the server's problem title and detail.
 */
final class AdminClient {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final int PAGE = 1000;

  /** A 2xx answer: its status and body ({@code null} for 204). */
  record Response(int status, JsonNode body) {}

  private final URI server;
  private final String key;
  private final HttpClient http;

  AdminClient(URI server, Optional<Path> trustedCertificates, String key) throws ApiException {
    this.server = server;
    this.key = key;
    HttpClient.Builder builder = HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(10))
        .version(HttpClient.Version.HTTP_1_1);
    if (trustedCertificates.isPresent()) {
      builder.sslContext(trusting(trustedCertificates.get()));
    }
    this.http = builder.build();
  }

  /** An SSL context trusting only the certificates in a PEM file (a CA or a self-signed server). */
  private static SSLContext trusting(Path pem) throws ApiException {
    try (InputStream in = Files.newInputStream(pem)) {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("trusted-" + i++, certificate);
      }
      if (i == 0) {
        throw new ApiException(ExitStatus.FAILED, "no certificate in " + pem);
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new ApiException(ExitStatus.FAILED, "cannot read certificates from " + pem + ": " + e.getMessage(), e);
    }
  }

  JsonNode get(String path) throws ApiException {
    return send("GET", path, null, null).body();
  }

  /** Every item of a collection, following {@code next} cursors. */
  ArrayNode getAll(String path) throws ApiException {
    return getAtMost(path, Integer.MAX_VALUE);
  }

  /** The first {@code limit} items of a collection, in the server's order. */
  ArrayNode getAtMost(String path, int limit) throws ApiException {
    ArrayNode all = JsonNodeFactory.instance.arrayNode();
    String cursor = null;
    do {
      String separator = path.contains("?") ? "&" : "?";
      String page = path + separator + "limit=" + Math.min(PAGE, limit - all.size())
          + (cursor == null ? "" : "&cursor=" + encode(cursor));
      JsonNode body = get(page);
      body.path("items").forEach(all::add);
      cursor = body.path("next").isTextual() ? body.path("next").asText() : null;
    } while (cursor != null && all.size() < limit);
    return all;
  }

  Response post(String path, JsonNode body) throws ApiException {
    return send("POST", path, body, null);
  }

  Response put(String path, JsonNode body, String ifMatch) throws ApiException {
    return send("PUT", path, body, ifMatch);
  }

  void delete(String path, String ifMatch) throws ApiException {
    send("DELETE", path, null, ifMatch);
  }

  static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  /**
   * The API path under the server URI, keeping the URI's own path: {@code https://h/egosecure}
   * and {@code /v1/tenants} make {@code https://h/egosecure/v1/tenants}, where resolving the
   * absolute path would drop {@code /egosecure} (a server mounted under a prefix behind a front).
   */
  static URI target(URI server, String path) {
    String base = server.toString();
    return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path);
  }

  private Response send(String method, String path, JsonNode body, String ifMatch) throws ApiException {
    URI uri = target(server, path);
    HttpRequest.Builder request = HttpRequest.newBuilder(uri)
        .timeout(TIMEOUT)
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
    HttpResponse<byte[]> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(ExitStatus.FAILED, "interrupted", e);
    } catch (IOException e) {
      throw unreachable(e);
    }
    int status = response.statusCode();
    JsonNode json = response.body().length == 0 ? null : parse(response.body(), status);
    if (status >= 200 && status < 300) {
      return new Response(status, json);
    }
    if (json != null && json.isObject()) {
      throw ApiException.problem(status, json.path("title").asText(null), json.path("detail").asText(null));
    }
    throw ApiException.problem(status, null, null);
  }

  private JsonNode parse(byte[] body, int status) throws ApiException {
    try {
      return Json.readTree(body);
    } catch (RuntimeException e) {
      throw new ApiException(status >= 400 ? ExitStatus.of(status) : ExitStatus.SERVER_ERROR,
          "HTTP " + status + " from " + server + " with a body that is not JSON: is this an EgoSecure server?");
    }
  }

  private ApiException unreachable(IOException e) {
    String what = "cannot reach " + server;
    if (e instanceof ConnectException) {
      return new ApiException(ExitStatus.UNREACHABLE, what + ": connection refused (is the server running?)", e);
    }
    if (e instanceof HttpConnectTimeoutException || e instanceof HttpTimeoutException) {
      return new ApiException(ExitStatus.UNREACHABLE, what + ": timed out", e);
    }
    if (e instanceof SSLException) {
      return new ApiException(ExitStatus.UNREACHABLE, what + ": TLS failed (" + e.getMessage()
          + "); pass the server's certificate or CA with --ca FILE", e);
    }
    return new ApiException(ExitStatus.UNREACHABLE, what + ": " + (e.getMessage() != null ? e.getMessage() : e.toString()), e);
  }
}
