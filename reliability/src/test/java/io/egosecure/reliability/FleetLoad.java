package io.egosecure.reliability;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Cheap simulated agents: each is an enrolled credential and the ETag it holds, polling on a
 * schedule over a shared client — the server's view of a fleet without a fleet's threads. Every
 * answer goes to {@link Outcomes}; requests are bounded by {@link #REQUEST_TIMEOUT}, so a hang is
 * recorded as a failure, never waited out.
 */
final class FleetLoad implements AutoCloseable {
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  /** One simulated agent: where it polls, its credential, the ETag it holds. */
  static final class Poller {
    final URI server;
    final String credential;
    volatile String etag;
    volatile long revision = -1;

    Poller(URI server, String credential) {
      this.server = server;
      this.credential = credential;
    }
  }

  private final HttpClient http;
  private final ScheduledExecutorService scheduler;
  final Outcomes outcomes = new Outcomes();
  final List<Poller> pollers = new ArrayList<>();

  FleetLoad(HttpClient http, int threads) {
    this.http = http;
    this.scheduler = Executors.newScheduledThreadPool(threads, runnable -> {
      Thread thread = new Thread(runnable, "fleet-load");
      thread.setDaemon(true);
      return thread;
    });
  }

  /** Enrolls a simulated agent at {@code server} with {@code token}. */
  static Poller enroll(HttpClient http, URI server, String token, String name) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.resolve("/v1/agent/enroll"))
        .timeout(REQUEST_TIMEOUT)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(Json.write(Json.object().put("token", token).put("name", name))))
        .build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 201) {
      throw new AssertionError("enrolling " + name + ": " + response.statusCode() + " " + response.body());
    }
    return new Poller(server, Json.readTree(response.body().getBytes(StandardCharsets.UTF_8)).path("credential").asText());
  }

  /** Polls with each poller every {@code interval}, starting at a random point of it. */
  void pollEvery(Duration interval) {
    for (Poller poller : pollers) {
      long offset = ThreadLocalRandom.current().nextLong(interval.toMillis());
      scheduler.scheduleAtFixedRate(() -> poll(poller), offset, interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Runs {@code request} (an admin read, say) every {@code interval}, recording its answer. */
  void repeat(String what, Duration interval, RequestFactory request) {
    scheduler.scheduleAtFixedRate(() -> send(what, request.create()), 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  @FunctionalInterface
  interface RequestFactory {
    HttpRequest create();
  }

  private void poll(Poller poller) {
    HttpRequest.Builder request = HttpRequest.newBuilder(poller.server.resolve("/v1/agent/policies"))
        .timeout(REQUEST_TIMEOUT)
        .header("Authorization", "Bearer " + poller.credential)
        .GET();
    if (poller.etag != null) {
      request.header("If-None-Match", poller.etag);
    }
    HttpResponse<String> response = send("poll " + poller.server.getPort(), request.build());
    if (response != null && response.statusCode() == 200) {
      JsonNode set = Json.readTree(response.body().getBytes(StandardCharsets.UTF_8));
      poller.revision = set.path("revision").asLong();
      poller.etag = response.headers().firstValue("ETag").orElse(null);
    }
  }

  private HttpResponse<String> send(String what, HttpRequest request) {
    long started = System.nanoTime();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      outcomes.record(what, response, System.nanoTime() - started);
      return response;
    } catch (IOException e) {
      outcomes.failed(what, e, System.nanoTime() - started);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      outcomes.failed(what, e, System.nanoTime() - started);
    }
    return null;
  }

  @Override
  public void close() throws InterruptedException {
    scheduler.shutdownNow();
    scheduler.awaitTermination(REQUEST_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
  }
}
