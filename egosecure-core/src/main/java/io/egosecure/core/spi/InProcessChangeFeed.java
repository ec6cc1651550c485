package io.egosecure.core.spi;

import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

final class InProcessChangeFeed implements ChangeFeed {
  private static final Logger log = LoggerFactory.getLogger(InProcessChangeFeed.class);

  private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();

  @Override
  public void publish(Change change) {
    for (Listener listener : listeners) {
      try {
        listener.onChange(change);
      } catch (RuntimeException e) {
        // One failing listener must not keep the change from the others.
        log.error("change listener failed on {}", change, e);
      }
    }
  }

  @Override
  public AutoCloseable subscribe(Listener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener == null"));
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    listeners.clear();
  }
}
