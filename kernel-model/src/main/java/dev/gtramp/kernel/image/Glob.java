package dev.gtramp.kernel.image;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

/**
 * A shell-style pattern over function names with the semantics of the kernel's {@code glob_match}
 * ({@code lib/glob.c}), which ftrace filters and libbpf's multi-attach patterns follow: {@code *}
 * matches any run of characters, {@code ?} one character, {@code [abc]}, {@code [a-z]} and
 * {@code [!a-z]} one character of (or not of) a class. There is no escape character.
 *
 * <p>Matching needs no allocation and backtracks only to the last {@code *}, so it is linear in
 * practice, as {@code glob_match} is.
 */
public final class Glob {
    private final String pattern;
    private final String literalPrefix;
    private final boolean literal;

    private Glob(String pattern) {
        this.pattern = pattern;
        int meta = firstMeta(pattern);
        this.literal = meta < 0;
        this.literalPrefix = meta < 0 ? pattern : pattern.substring(0, meta);
    }

    /**
     * Compiles a pattern.
     *
     * @throws KernelException EINVAL for an empty or blank pattern, or an unterminated {@code [}
     */
    public static Glob compile(String pattern) {
        if (pattern == null || pattern.isBlank()) {
            throw new KernelException(Errno.EINVAL, "empty function pattern");
        }
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (Character.isWhitespace(c)) {
                throw new KernelException(Errno.EINVAL, "function pattern \"" + pattern
                        + "\" contains whitespace at index " + i);
            }
            if (c == '[' && classEnd(pattern, i) < 0) {
                throw new KernelException(Errno.EINVAL, "function pattern \"" + pattern
                        + "\" has an unterminated '[' at index " + i);
            }
        }
        return new Glob(pattern);
    }

    public String pattern() {
        return pattern;
    }

    /** Whether the pattern has no metacharacter, so it names exactly one function. */
    public boolean isLiteral() {
        return literal;
    }

    /** The characters before the first metacharacter; every match starts with them. */
    public String literalPrefix() {
        return literalPrefix;
    }

    /** Whether {@code name} matches the whole pattern. */
    public boolean matches(String name) {
        if (!name.startsWith(literalPrefix)) {
            return false;
        }
        if (literal) {
            return name.length() == pattern.length();
        }
        int p = literalPrefix.length();
        int s = p;
        int backP = -1;
        int backS = -1;
        while (true) {
            if (p < pattern.length() && pattern.charAt(p) == '*') {
                backP = ++p;
                backS = s;
                continue;
            }
            if (s == name.length()) {
                if (p == pattern.length()) {
                    return true;
                }
            } else if (p < pattern.length()) {
                char pc = pattern.charAt(p);
                char sc = name.charAt(s);
                if (pc == '?') {
                    p++;
                    s++;
                    continue;
                }
                if (pc == '[') {
                    int end = classEnd(pattern, p);
                    if (inClass(pattern, p + 1, end, sc)) {
                        p = end + 1;
                        s++;
                        continue;
                    }
                } else if (pc == sc) {
                    p++;
                    s++;
                    continue;
                }
            }
            // Mismatch: let the last '*' swallow one more character, as glob_match does.
            if (backP < 0 || backS >= name.length()) {
                return false;
            }
            p = backP;
            s = ++backS;
        }
    }

    private static boolean inClass(String pat, int from, int end, char c) {
        boolean negate = pat.charAt(from) == '!';
        int i = negate ? from + 1 : from;
        boolean match = false;
        while (i < end) {
            char lo = pat.charAt(i);
            char hi = lo;
            if (i + 2 < end && pat.charAt(i + 1) == '-') {
                hi = pat.charAt(i + 2);
                i += 3;
            } else {
                i++;
            }
            match |= lo <= c && c <= hi;
        }
        return match != negate;
    }

    /** The index of the ']' closing the class that opens at {@code open}, or -1. */
    private static int classEnd(String pat, int open) {
        int i = open + 1;
        if (i < pat.length() && pat.charAt(i) == '!') {
            i++;
        }
        if (i < pat.length() && pat.charAt(i) == ']') {
            i++;
        }
        return pat.indexOf(']', i);
    }

    private static int firstMeta(String pat) {
        for (int i = 0; i < pat.length(); i++) {
            char c = pat.charAt(i);
            if (c == '*' || c == '?' || c == '[') {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return pattern;
    }
}
