package io.egosecure.transport.https;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The route table: a method and a path pattern ({@code /v1/tenants/{t}/policies/{p}}) to an
 * endpoint. A path that matches with another method answers 405 with {@code Allow}; one that
 * matches nothing answers 404.
 */
final class Routes {

  /** An endpoint: given the call, its reply. */
  @FunctionalInterface
  interface Endpoint {
    Reply handle(Call call) throws Exception;
  }

  record Route(String method, String pattern, List<String> segments, Endpoint endpoint) {}

  /** The outcome of matching a request. */
  sealed interface Match permits Found, WrongMethod, NoRoute {}

  record Found(Route route, Map<String, String> parameters) implements Match {}

  record WrongMethod(Set<String> allowed) implements Match {}

  record NoRoute() implements Match {}

  private final List<Route> routes = new ArrayList<>();

  Routes add(String method, String pattern, Endpoint endpoint) {
    routes.add(new Route(method, pattern, segments(pattern), endpoint));
    return this;
  }

  List<Route> all() {
    return List.copyOf(routes);
  }

  Match match(String method, String path) {
    List<String> actual = segments(path);
    Set<String> allowed = new LinkedHashSet<>();
    for (Route route : routes) {
      Optional<Map<String, String>> parameters = parameters(route.segments(), actual);
      if (parameters.isPresent()) {
        if (route.method().equals(method)) {
          return new Found(route, parameters.get());
        }
        allowed.add(route.method());
      }
    }
    return allowed.isEmpty() ? new NoRoute() : new WrongMethod(allowed);
  }

  private static Optional<Map<String, String>> parameters(List<String> pattern, List<String> actual) {
    if (pattern.size() != actual.size()) {
      return Optional.empty();
    }
    Map<String, String> parameters = new LinkedHashMap<>();
    for (int i = 0; i < pattern.size(); i++) {
      String expected = pattern.get(i);
      if (expected.startsWith("{") && expected.endsWith("}")) {
        if (actual.get(i).isEmpty()) {
          return Optional.empty();
        }
        parameters.put(expected.substring(1, expected.length() - 1), actual.get(i));
      } else if (!expected.equals(actual.get(i))) {
        return Optional.empty();
      }
    }
    return Optional.of(parameters);
  }

  private static List<String> segments(String path) {
    List<String> segments = new ArrayList<>();
    for (String segment : path.split("/", -1)) {
      segments.add(segment);
    }
    return segments;
  }
}
