package dev.remap.engine.store;

/**
 * The rules every object key and list prefix obeys, in every store.
 *
 * <p>A key is a '/'-separated relative path of segments made of {@code [A-Za-z0-9._@-]}: no
 * leading or trailing '/', no empty segment, no "." or ".." segment, at most 255 characters a
 * segment and 1024 in all. The rules are what keeps the file store inside its folder (no path
 * traversal), what makes S3 and file listings sort the same way (ASCII), and what lets a store
 * use names outside the alphabet (a '~') for its own temporary files without ever colliding
 * with a key.
 */
public final class ObjectKeys {

  public static final int MAX_KEY_LENGTH = 1024;
  public static final int MAX_SEGMENT_LENGTH = 255;

  private ObjectKeys() {}

  /** Returns key if it is valid, else throws IllegalArgumentException naming it and the rule. */
  public static String requireValid(String key) {
    String problem = problem(key, false);
    if (problem != null) {
      throw new IllegalArgumentException("invalid object key '" + key + "': " + problem);
    }
    return key;
  }

  public static boolean isValid(String key) {
    return problem(key, false) == null;
  }

  /**
   * Returns prefix if it is a valid list prefix: empty, or the beginning of some valid key
   * (so "seg/" and "seg/00" are prefixes, "/seg", "seg//" and "../" are not).
   */
  public static String requireValidPrefix(String prefix) {
    String problem = prefix == null ? "it is null" : prefix.isEmpty() ? null : problem(prefix, true);
    if (problem != null) {
      throw new IllegalArgumentException("invalid key prefix '" + prefix + "': " + problem);
    }
    return prefix;
  }

  private static String problem(String key, boolean prefix) {
    if (key == null) {
      return "it is null";
    }
    if (key.isEmpty()) {
      return "it is empty";
    }
    if (key.length() > MAX_KEY_LENGTH) {
      return "it is longer than " + MAX_KEY_LENGTH + " characters";
    }
    if (key.charAt(0) == '/') {
      return "it starts with '/' (keys are relative)";
    }
    int start = 0;
    for (int i = 0; i <= key.length(); i++) {
      boolean end = i == key.length();
      char c = end ? '/' : key.charAt(i);
      if (c == '/') {
        String segment = key.substring(start, i);
        // A prefix may end in the middle of a segment, or just after a '/'.
        boolean partial = prefix && end;
        if (segment.isEmpty() && !partial) {
          return end ? "it ends with '/'" : "it has an empty segment ('//')";
        }
        if (!partial && (segment.equals(".") || segment.equals(".."))) {
          return "it has a '" + segment + "' segment";
        }
        if (segment.length() > MAX_SEGMENT_LENGTH) {
          return "a segment is longer than " + MAX_SEGMENT_LENGTH + " characters";
        }
        start = i + 1;
      } else if (!allowed(c)) {
        return "character '" + c + "' is not allowed (only A-Z a-z 0-9 . _ @ - and '/' between segments)";
      }
    }
    return null;
  }

  private static boolean allowed(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '.' || c == '_' || c == '@' || c == '-';
  }
}
