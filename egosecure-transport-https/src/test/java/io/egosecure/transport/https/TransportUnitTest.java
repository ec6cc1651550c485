package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.egosecure.core.PolicyServer;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.testing.MutableClock;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
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
  void fixedPathsAreFoundWithoutParametersAndTheFirstRouteAddedStillWins() {
    Routes.Endpoint first = call -> Reply.empty(200);
    Routes.Endpoint second = call -> Reply.empty(201);
    Routes routes = new Routes()
        .add("GET", "/v1/agent/policies", first)
        .add("GET", "/v1/tenants/{t}", first)
        .add("GET", "/v1/tenants/fixed", second)
        .add("POST", "/v1/tenants/fixed", second);

    Routes.Match poll = routes.match("GET", "/v1/agent/policies");
    assertThat(poll).isInstanceOfSatisfying(Routes.Found.class, found -> {
      assertThat(found.route().name()).isEqualTo("GET /v1/agent/policies");
      assertThat(found.parameters()).isEmpty();
    });
    assertThat(routes.match("GET", "/v1/agent/policies")).as("answered from the map, not rebuilt").isSameAs(poll);
    assertThat(routes.match("GET", "/v1/tenants/fixed"))
        .as("a pattern added before a fixed path still matches it first, as the ordered scan does")
        .isInstanceOfSatisfying(Routes.Found.class, found -> {
          assertThat(found.route().pattern()).isEqualTo("/v1/tenants/{t}");
          assertThat(found.parameters()).containsEntry("t", "fixed");
        });
    assertThat(routes.match("POST", "/v1/tenants/fixed"))
        .isInstanceOfSatisfying(Routes.Found.class, found -> assertThat(found.route().endpoint()).isSameAs(second));
    assertThat(routes.match("DELETE", "/v1/agent/policies"))
        .isInstanceOfSatisfying(Routes.WrongMethod.class, wrong -> assertThat(wrong.allowed()).containsExactly("GET"));
    assertThat(routes.match("GET", "/v1/agent/policies/")).isInstanceOf(Routes.NoRoute.class);
  }

  @Test
  void requestTimersAreRegisteredOncePerRouteAndStatus() {
    PolicyServer server = PolicyServer.builder().store(PolicyStore.inMemory())
        .masterKey(KeyVault.generateMasterKey()).build();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Transport transport = new Transport(server, TransportLimits.defaults(), registry, Clock.systemUTC(),
        new PushHub(server::currentRevision, Transport.pushBroadcastTimer(registry)));

    for (int i = 0; i < 3; i++) {
      transport.timed("GET /v1/agent/policies", 304, 1_000);
    }
    transport.timed("GET /v1/agent/policies", 200, 2_000);
    transport.timed("unmatched", 404, 3_000);

    Timer notModified = registry.get("egosecure.http.requests")
        .tags("route", "GET /v1/agent/policies", "status", "304").timer();
    assertThat(notModified.count()).isEqualTo(3);
    assertThat(notModified.totalTime(TimeUnit.NANOSECONDS)).isEqualTo(3_000);
    assertThat(registry.get("egosecure.http.requests").tags("status", "200").timer().count()).isEqualTo(1);
    assertThat(registry.get("egosecure.http.requests").tags("route", "unmatched").timer().count()).isEqualTo(1);
    assertThat(registry.get("egosecure.http.requests").timers()).hasSize(3);
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
  void ioThreadsAndAcceptorsAreBoundedAndMustFitTheThreadPool() {
    PolicyServer server = PolicyServer.builder().store(PolicyStore.inMemory())
        .masterKey(KeyVault.generateMasterKey()).build();
    assertThatThrownBy(() -> EgoSecureHttpsServer.builder(server).ioThreads(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ioThreads must be 1 to 64, was 0");
    assertThatThrownBy(() -> EgoSecureHttpsServer.builder(server).acceptors(9))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("acceptors must be 0 to 8, was 9");
    assertThatThrownBy(() -> EgoSecureHttpsServer.builder(server).insecureHttp().maxThreads(8).ioThreads(8).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("maxThreads (8) cannot be less than acceptors + ioThreads + 4 (13)");
    assertThat(Optional.of(EgoSecureHttpsServer.builder(server).insecureHttp().ioThreads(2).acceptors(0).build())).isPresent();
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
