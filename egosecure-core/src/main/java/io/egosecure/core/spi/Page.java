package io.egosecure.core.spi;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * One page of a collection.
 *
 * @param next the cursor of the following page, empty on the last one
 */
public record Page<T>(List<T> items, Optional<String> next) {
  public Page {
    items = List.copyOf(items);
    if (next == null) {
      throw new NullPointerException("next == null");
    }
  }

  public <R> Page<R> map(Function<? super T, ? extends R> mapper) {
    return new Page<>(items.stream().<R>map(mapper).toList(), next);
  }
}
