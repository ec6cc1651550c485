package io.egosecure.core.internal;

import io.egosecure.core.ValidationException;
import io.egosecure.core.spi.Page;
import io.egosecure.core.spi.PageRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * Paging over lists held in memory, with opaque cursors: the base64url of a sort key, so a
 * client cannot mistake a cursor for an id, and one the server did not issue is refused.
 */
public final class Pages {
  private static final String PREFIX = "c1:";

  private Pages() {}

  /**
   * The page of {@code items} (sorted ascending by {@code key}) after the cursor's key. Keys are
   * compared as strings, so sort the list the same way.
   */
  public static <T> Page<T> ascending(
      List<T> items, Function<? super T, String> key, PageRequest request) {
    Optional<String> after = request.cursor().map(Pages::decode);
    return page(items, item -> after.isPresent() && key.apply(item).compareTo(after.get()) <= 0,
        key, request.limit());
  }

  /** The page of {@code items} (sorted by a descending number) after the cursor's number. */
  public static <T> Page<T> descending(
      List<T> items, ToLongFunction<? super T> key, PageRequest request) {
    Optional<Long> before = request.cursor().map(Pages::decodeNumber);
    return page(items, item -> before.isPresent() && key.applyAsLong(item) >= before.get(),
        item -> Long.toString(key.applyAsLong(item)), request.limit());
  }

  /** Up to {@code limit} items not {@code skipped}, and a cursor when more remain. */
  private static <T> Page<T> page(
      List<T> items, Predicate<T> skipped, Function<? super T, String> cursorKey, int limit) {
    List<T> page = new ArrayList<>(limit);
    for (T item : items) {
      if (skipped.test(item)) {
        continue;
      }
      if (page.size() == limit) {
        return new Page<>(page, Optional.of(encode(cursorKey.apply(page.get(limit - 1)))));
      }
      page.add(item);
    }
    return new Page<>(page, Optional.empty());
  }

  /**
   * A page from {@code limit + 1} items read (a store asks its database for one more row than
   * the page holds): the extra item only says that there is a next page.
   */
  public static <T> Page<T> fromExtraRow(
      List<T> rows, int limit, Function<? super T, String> cursorKey) {
    if (rows.size() <= limit) {
      return new Page<>(rows, Optional.empty());
    }
    List<T> items = rows.subList(0, limit);
    return new Page<>(items, Optional.of(encode(cursorKey.apply(items.get(limit - 1)))));
  }

  /** The opaque cursor for a sort key; stores that page in SQL use it too. */
  public static String encode(String key) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((PREFIX + key).getBytes(StandardCharsets.UTF_8));
  }

  /** The sort key in a cursor made by {@link #encode}. */
  public static String decode(String cursor) {
    try {
      String decoded = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      if (decoded.startsWith(PREFIX)) {
        return decoded.substring(PREFIX.length());
      }
    } catch (IllegalArgumentException e) {
      // falls through to the same answer as a well-formed foreign cursor
    }
    throw new ValidationException("cursor", "is not a cursor this server issued");
  }

  /** The number in a cursor made by {@code encode(Long.toString(n))}. */
  public static long decodeNumber(String cursor) {
    try {
      return Long.parseLong(decode(cursor));
    } catch (NumberFormatException e) {
      throw new ValidationException("cursor", "is not a cursor this server issued");
    }
  }
}
