package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.egosecure.core.PolicyServer;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The transport's own rules, without a network. */
class TransportUnitTest {

  @Test
  void aRateLimiterAllowsABurstThenRefillsAtItsRate() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    RateLimiter limiter = new RateLimiter(new RateLimit(2, 3), clock);

    for (int i = 0; i < 3; i++) {
      assertThat(limiter.acquire("a")).isEmpty();
    }
    assertThat(limiter.acquire("a")).contains(Duration.ofMillis(500));
    assertThat(limiter.acquire("b")).as("another caller has its own bucket").isEmpty();
    clock.advance(Duration.ofMillis(500));
    assertThat(limiter.acquire("a")).isEmpty();
    assertThat(limiter.acquire("a")).isPresent();
  }

  @Test
  void routesMatchPatternsAndTellWrongMethodsApart() {
    Routes routes = new Routes()
        .add("GET", "/v1/tenants/{t}", call -> Reply.empty(200))
        .add("DELETE", "/v1/tenants/{t}", call -> Reply.empty(204));

    assertThat(routes.match("GET", "/v1/tenants/t-1"))
        .isInstanceOfSatisfying(Routes.Found.class, found -> assertThat(found.parameters()).containsEntry("t", "t-1"));
    assertThat(routes.match("PUT", "/v1/tenants/t-1"))
        .isInstanceOfSatisfying(Routes.WrongMethod.class,
            wrong -> assertThat(wrong.allowed()).containsExactly("GET", "DELETE"));
    assertThat(routes.match("GET", "/v1/tenants/")).isInstanceOf(Routes.NoRoute.class);
    assertThat(routes.match("GET", "/v1/tenants/t-1/x")).isInstanceOf(Routes.NoRoute.class);
  }

  @Test
  void limitsRefuseValuesOutOfRangeNamingTheLimit() {
    TransportLimits.Builder defaults = TransportLimits.defaults().toBuilder();
    assertThatThrownBy(() -> defaults.maxWait(Duration.ofSeconds(61)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxWait");
    assertThatThrownBy(() -> TransportLimits.defaults().toBuilder().idleTimeout(Duration.ofSeconds(30)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idleTimeout");
    assertThatThrownBy(() -> TransportLimits.defaults().toBuilder().maxAgentBodyBytes(0).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxAgentBodyBytes");
    assertThatThrownBy(() -> new RateLimit(0, 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aServerNeedsTlsOrAnExplicitInsecureSwitch() {
    PolicyServer server = PolicyServer.builder().store(PolicyStore.inMemory())
        .masterKey(KeyVault.generateMasterKey()).build();
    assertThatThrownBy(() -> EgoSecureHttpsServer.builder(server).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("tls is required");
    assertThat(Optional.of(EgoSecureHttpsServer.builder(server).insecureHttp().port(0).build())).isPresent();
  }
}
