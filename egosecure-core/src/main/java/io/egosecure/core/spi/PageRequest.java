package io.egosecure.core.spi;

import io.egosecure.core.ValidationException;
import java.util.Optional;

/**
 * Which page of a collection to read: at most {@code limit} items after the opaque {@code
 * cursor} a previous {@link Page#next()} returned.
 */
public record PageRequest(Optional<String> cursor, int limit) {
  public static final int DEFAULT_LIMIT = 100;
  public static final int MAX_LIMIT = 1000;

  public PageRequest {
    if (cursor == null) {
      throw new ValidationException("cursor", "is required (Optional.empty() for the first page)");
    }
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new ValidationException("limit", "must be 1 to " + MAX_LIMIT + ", was " + limit);
    }
  }

  /** The first {@value #DEFAULT_LIMIT} items. */
  public static PageRequest first() {
    return new PageRequest(Optional.empty(), DEFAULT_LIMIT);
  }

  public static PageRequest first(int limit) {
    return new PageRequest(Optional.empty(), limit);
  }

  public PageRequest after(String cursor) {
    return new PageRequest(Optional.of(cursor), limit);
  }
}
