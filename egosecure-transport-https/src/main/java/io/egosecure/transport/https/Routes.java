package io.egosecure.transport.https;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The route table: a method and a path pattern ({@code /v1/tenants/{t}/policies/{p}}) to an
 * endpoint. A path that matches with another method answers 405 with {@code Allow}; one that
 * matches nothing answers 404. Routes are tried in the order they were added.
 *
 * <p>A request for a fixed path (no parameters: the agent's poll, health, metrics) is answered
 * from a map built when routes are added, holding what the ordered scan would find, so the
 * busiest routes cost one lookup and no allocation.
 */
final class Routes {

  /** An endpoint: given the call, its reply. */
  @FunctionalInterface
  interface Endpoint {
    Reply handle(Call call) throws Exception;
  }

  /** @param name {@code METHOD /pattern}, the route's name in metrics */
  record Route(String method, String pattern, List<String> segments, Endpoint endpoint, String name) {}

  /** The outcome of matching a request. */
  sealed interface Match permits Found, WrongMethod, NoRoute {}

  record Found(Route route, Map<String, String> parameters) implements Match {}

  record WrongMethod(Set<String> allowed) implements Match {}

  record NoRoute() implements Match {}

  private final List<Route> routes = new ArrayList<>();
  /** Fixed path, then method, to what {@link #scan} answers for it; replaced whole on each add. */
  private volatile Map<String, Map<String, Found>> fixedPaths = Map.of();

  Routes add(String method, String pattern, Endpoint endpoint) {
    routes.add(new Route(method, pattern, List.copyOf(segments(pattern)), endpoint, method + " " + pattern));
    Map<String, Map<String, Found>> fixed = new HashMap<>();
    for (Route route : routes) {
      if (!route.pattern().contains("{")) {
        Match match = scan(route.method(), route.pattern());
        if (match instanceof Found found) {
          fixed.computeIfAbsent(route.pattern(), p -> new HashMap<>()).put(route.method(), found);
        }
      }
    }
    fixedPaths = fixed;
    return this;
  }

  List<Route> all() {
    return List.copyOf(routes);
  }

  Match match(String method, String path) {
    Map<String, Found> byMethod = fixedPaths.get(path);
    if (byMethod != null) {
      Found found = byMethod.get(method);
      if (found != null) {
        return found;
      }
    }
    return scan(method, path);
  }

  /** The first route in order whose pattern and method match; else the methods that would. */
  private Match scan(String method, String path) {
    List<String> actual = segments(path);
    Set<String> allowed = new LinkedHashSet<>();
    for (Route route : routes) {
      Map<String, String> parameters = parameters(route.segments(), actual);
      if (parameters != null) {
        if (route.method().equals(method)) {
          return new Found(route, parameters);
        }
        allowed.add(route.method());
      }
    }
    return allowed.isEmpty() ? new NoRoute() : new WrongMethod(allowed);
  }

  /** The path's parameters if it fits the pattern, else null. */
  private static Map<String, String> parameters(List<String> pattern, List<String> actual) {
    if (pattern.size() != actual.size()) {
      return null;
    }
    Map<String, String> parameters = null;
    for (int i = 0; i < pattern.size(); i++) {
      String expected = pattern.get(i);
      if (expected.startsWith("{") && expected.endsWith("}")) {
        if (actual.get(i).isEmpty()) {
          return null;
        }
        if (parameters == null) {
          parameters = new LinkedHashMap<>();
        }
        parameters.put(expected.substring(1, expected.length() - 1), actual.get(i));
      } else if (!expected.equals(actual.get(i))) {
        return null;
      }
    }
    return parameters == null ? Map.of() : Collections.unmodifiableMap(parameters);
  }

  private static List<String> segments(String path) {
    List<String> segments = new ArrayList<>();
    for (String segment : path.split("/", -1)) {
      segments.add(segment);
    }
    return segments;
  }
}
