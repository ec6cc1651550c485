package io.egosecure.core.model;

import io.egosecure.core.ValidationException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/** The rules the model's records share, so each is written once. */
final class Checks {
  static final int MAX_NAME_LENGTH = 200;
  static final int MAX_GROUP_LENGTH = 100;
  static final int MAX_GROUPS = 100;

  static final int MAX_ID_LENGTH = 64;

  private Checks() {}

  static <T> T notNull(T value, String field) {
    if (value == null) {
      throw new ValidationException(field, "is required");
    }
    return value;
  }

  static String id(String value, String field) {
    notNull(value, field);
    if (!isId(value)) {
      throw new ValidationException(
          field, "must be 1 to 64 characters of a-z, 0-9 and '-', starting with a letter or digit");
    }
    return value;
  }

  /**
   * Whether {@code value} is 1 to 64 characters of a-z, 0-9 and '-', not starting with '-'.
   * Checked by hand rather than by a regular expression: every authenticated request checks two.
   */
  static boolean isId(CharSequence value) {
    int length = value.length();
    if (length == 0 || length > MAX_ID_LENGTH || value.charAt(0) == '-') {
      return false;
    }
    for (int i = 0; i < length; i++) {
      char c = value.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return false;
      }
    }
    return true;
  }

  /** A human-readable name: not blank, at most {@code max} characters, no control characters. */
  static String text(String value, String field, int max) {
    notNull(value, field);
    if (value.isBlank()) {
      throw new ValidationException(field, "must not be blank");
    }
    if (value.length() > max) {
      throw new ValidationException(
          field, "is " + value.length() + " characters long; the limit is " + max);
    }
    if (value.chars().anyMatch(Character::isISOControl)) {
      throw new ValidationException(field, "must not contain control characters");
    }
    if (hasLoneSurrogate(value)) {
      throw new ValidationException(field, "must be valid Unicode (it has a lone surrogate)");
    }
    return value;
  }

  /**
   * Whether {@code value} holds a surrogate without its pair: not Unicode text, not I-JSON
   * (RFC 7493), and RFC 8785 cannot canonicalise it, so it could never be signed.
   */
  static boolean hasLoneSurrogate(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < value.length()
          && Character.isLowSurrogate(value.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  static Set<String> groups(Collection<String> groups, String field) {
    notNull(groups, field);
    if (groups.size() > MAX_GROUPS) {
      throw new ValidationException(
          field, "has " + groups.size() + " groups; the limit is " + MAX_GROUPS);
    }
    Set<String> checked = new LinkedHashSet<>();
    for (String group : groups) {
      checked.add(text(group, field + "[]", MAX_GROUP_LENGTH));
    }
    return Set.copyOf(checked);
  }

  static long nonNegative(long value, String field) {
    if (value < 0) {
      throw new ValidationException(field, "must not be negative, was " + value);
    }
    return value;
  }

  /** Stores keep milliseconds; the model does too, so a round trip through any store is exact. */
  static Instant millis(Instant value, String field) {
    return notNull(value, field).truncatedTo(ChronoUnit.MILLIS);
  }
}
