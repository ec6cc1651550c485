package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.PolicyServer;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** Plain HTTP exists only behind the explicit development switch, and then works. */
class InsecureHttpIT {
  @Test
  void theDevelopmentSwitchServesPlainHttp() throws Exception {
    PolicyServer policyServer = PolicyServer.builder().store(PolicyStore.inMemory())
        .masterKey(KeyVault.generateMasterKey()).build();
    policyServer.start();
    try (EgoSecureHttpsServer server = EgoSecureHttpsServer.builder(policyServer)
        .host("127.0.0.1").port(0).insecureHttp().build()) {
      server.start();
      assertThat(server.uri().getScheme()).isEqualTo("http");
      HttpResponse<String> response = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(server.uri().resolve("/health/live")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
    } finally {
      policyServer.close();
    }
  }
}
