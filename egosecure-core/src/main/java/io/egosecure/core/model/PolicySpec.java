package io.egosecure.core.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.ValidationException;
import java.util.Iterator;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What an administrator writes: a policy's content, without the id, version and timestamps the
 * server assigns. {@code settings} is opaque to the server and delivered to agents as it is.
 *
 * <p>Settings must be I-JSON (RFC 7493): numbers that a double holds exactly, because the
 * signature covers their RFC 8785 canonical form and a larger integer would not survive it.
 *
 * @param kind what the agent should do with {@code settings}, for example {@code
 *     device-control}: 1 to 100 characters of letters, digits and {@code . _ : / -}
 */
public record PolicySpec(String name, String kind, ObjectNode settings, Targets targets) {
  private static final Pattern KIND = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}");
  private static final long MAX_SAFE_INTEGER = (1L << 53) - 1;
  private static final ObjectMapper NORMALIZER = new ObjectMapper();

  public PolicySpec {
    Checks.text(name, "name", Checks.MAX_NAME_LENGTH);
    Checks.notNull(kind, "kind");
    if (!KIND.matcher(kind).matches()) {
      throw new ValidationException(
          "kind", "must be 1 to 100 characters of letters, digits and . _ : / -");
    }
    Checks.notNull(settings, "settings");
    // Re-parsing is costly and rarely needed: only trees built in code hold odd number nodes.
    settings = requireIJson(settings, "settings") ? settings.deepCopy() : normalized(settings);
    Checks.notNull(targets, "targets");
  }

  /** A copy: the record stays immutable although Jackson's trees are not. */
  @Override
  public ObjectNode settings() {
    return settings.deepCopy();
  }

  /**
   * The tree a parse of its own JSON text gives: {@code put("n", 3L)} and a parsed {@code 3} are
   * then the same node type, so a spec equals itself after any round trip through a store.
   */
  private static ObjectNode normalized(ObjectNode settings) {
    try {
      return (ObjectNode) NORMALIZER.readTree(settings.toString());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Jackson cannot re-read its own output", e);
    }
  }

  /**
   * Checks the tree is I-JSON.
   *
   * @return whether its number nodes are already of the types a parse gives (int, long beyond
   *     int, double), so no normalising re-parse is needed
   */
  private static boolean requireIJson(JsonNode node, String path) {
    if (node.isNumber()) {
      boolean exact =
          node.isIntegralNumber()
              ? node.canConvertToLong() && Math.abs(node.longValue()) <= MAX_SAFE_INTEGER
              : Double.isFinite(node.doubleValue());
      if (!exact) {
        throw new ValidationException(
            path, "number " + node + " is outside what a double holds exactly (±2^53)");
      }
      return node.isInt() || node.isDouble() || (node.isLong() && !node.canConvertToInt());
    }
    boolean parsedForm = true;
    if (node.isTextual()) {
      if (Checks.hasLoneSurrogate(node.textValue())) {
        throw new ValidationException(path, "must be valid Unicode (it has a lone surrogate)");
      }
    } else if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        if (Checks.hasLoneSurrogate(field.getKey())) {
          throw new ValidationException(
              path, "member names must be valid Unicode (one has a lone surrogate)");
        }
        parsedForm &= requireIJson(field.getValue(), path + "." + field.getKey());
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        parsedForm &= requireIJson(node.get(i), path + "[" + i + "]");
      }
    }
    return parsedForm;
  }
}
