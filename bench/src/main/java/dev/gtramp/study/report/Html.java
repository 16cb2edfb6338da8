package dev.gtramp.study.report;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A small HTML writer: text and attribute values escaped, tables from rows of cells. A cell is
 * text unless it is made with {@link #raw}, which is for markup this package built itself.
 */
final class Html {
    private static final Pattern URL = Pattern.compile("https?://[^\\s\"<>]+");

    private final StringBuilder out = new StringBuilder(1 << 16);

    /** Markup that is not to be escaped again. */
    record Raw(String html) {
    }

    static Raw raw(String html) {
        return new Raw(html);
    }

    /** {@code s} with {@code & < > " '} escaped, for text and for attribute values; null is empty. */
    static String escape(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r' || c == 0x7f) {
                        b.append(' ');
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    /** Escaped text in which a whole-word {@code http(s)://} address becomes a link. */
    static Raw linked(String s) {
        if (s == null) {
            return raw("");
        }
        StringBuilder b = new StringBuilder();
        var m = URL.matcher(s);
        int at = 0;
        while (m.find()) {
            b.append(escape(s.substring(at, m.start())));
            String url = m.group();
            while (!url.isEmpty() && ".,;:)".indexOf(url.charAt(url.length() - 1)) >= 0) {
                url = url.substring(0, url.length() - 1);
            }
            b.append("<a href=\"").append(escape(url)).append("\">").append(escape(url)).append("</a>");
            at = m.start() + url.length();
        }
        b.append(escape(s.substring(at)));
        return raw(b.toString());
    }

    /** One table row's cells; unlike {@link List#of} it takes nulls (empty cells). */
    static List<Object> cells(Object... cells) {
        return java.util.Arrays.asList(cells);
    }

    /** Appends markup as it is. */
    Html markup(String html) {
        out.append(html);
        return this;
    }

    /** Appends {@code <tag>text</tag>} with the text escaped. */
    Html element(String tag, String text) {
        out.append('<').append(tag).append('>').append(escape(text)).append("</").append(tag).append(">\n");
        return this;
    }

    /** Appends a paragraph of escaped text. */
    Html p(String text) {
        return element("p", text);
    }

    /**
     * Appends a table: a header row, then one row per list of cells. A cell is a {@link Raw}
     * (markup as it is), a {@link Num} (escaped, right-aligned), or anything else (its
     * {@code toString}, escaped; null is empty).
     */
    Html table(String cssClass, List<String> header, List<List<?>> rows) {
        out.append("<table class=\"").append(escape(cssClass)).append("\">\n<thead><tr>");
        for (String h : header) {
            out.append("<th>").append(escape(h)).append("</th>");
        }
        out.append("</tr></thead>\n<tbody>\n");
        for (List<?> row : rows) {
            out.append("<tr>");
            for (Object cell : row) {
                if (cell instanceof Raw r) {
                    out.append("<td>").append(r.html()).append("</td>");
                } else if (cell instanceof Num n) {
                    out.append("<td class=\"num\">").append(escape(n.text())).append("</td>");
                } else {
                    out.append("<td>").append(escape(cell == null ? "" : cell.toString())).append("</td>");
                }
            }
            out.append("</tr>\n");
        }
        out.append("</tbody>\n</table>\n");
        return this;
    }

    /** A right-aligned cell of formatted text. */
    record Num(String text) {
    }

    static Num num(String text) {
        return new Num(text);
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
