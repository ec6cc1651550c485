package io.egosecure.reliability;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a load of plain HTTPS requests got back: counts by status, the slowest answer, and every
 * answer that breaks the contract under faults (anything but success, 304, or a 503 that says
 * when to come back as problem+json), and every request that failed without an answer.
 */
final class Outcomes {
  private final Map<Integer, AtomicLong> byStatus = new TreeMap<>();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final AtomicLong slowestNanos = new AtomicLong();

  void record(String what, HttpResponse<?> response, long nanos) {
    slowestNanos.accumulateAndGet(nanos, Math::max);
    synchronized (byStatus) {
      byStatus.computeIfAbsent(response.statusCode(), s -> new AtomicLong()).incrementAndGet();
    }
    int status = response.statusCode();
    if (status == 503) {
      boolean retryAfter = response.headers().firstValue("Retry-After").isPresent();
      boolean problem = response.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json");
      if (!retryAfter || !problem) {
        violations.add(what + ": 503 without Retry-After or problem+json: " + response.headers().map() + " " + response.body());
      }
    } else if (status >= 300 && status != 304) {
      violations.add(what + ": " + status + " " + response.body());
    }
  }

  void failed(String what, Throwable failure, long nanos) {
    slowestNanos.accumulateAndGet(nanos, Math::max);
    violations.add(what + ": no answer after " + nanos / 1_000_000 + " ms: " + failure);
  }

  long count(int status) {
    synchronized (byStatus) {
      AtomicLong count = byStatus.get(status);
      return count == null ? 0 : count.get();
    }
  }

  long total() {
    synchronized (byStatus) {
      return byStatus.values().stream().mapToLong(AtomicLong::get).sum();
    }
  }

  List<String> violations() {
    return List.copyOf(violations);
  }

  long slowestMillis() {
    return slowestNanos.get() / 1_000_000;
  }

  @Override
  public String toString() {
    synchronized (byStatus) {
      return "statuses " + byStatus + ", slowest " + slowestMillis() + " ms, " + violations.size() + " violations";
    }
  }
}
