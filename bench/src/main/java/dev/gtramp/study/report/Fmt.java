package dev.gtramp.study.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

/** Number formats of the reports, all in {@link Locale#ROOT}. */
final class Fmt {
    private Fmt() {
    }

    /**
     * A machine-readable number: the shortest decimal that reads back as {@code x}, never with an
     * exponent or a thousands separator ({@code 0.00012}, {@code 1500}); empty for NaN and
     * infinities.
     */
    static String plain(double x) {
        if (!Double.isFinite(x)) {
            return "";
        }
        if (x == 0) {
            return "0";
        }
        return BigDecimal.valueOf(x).stripTrailingZeros().toPlainString();
    }

    /**
     * A readable number: three significant digits, thousands separators from 1,000 on, an
     * exponent below 0.001 ({@code 1.23e-05}), a dash for NaN.
     */
    static String sig(double x) {
        if (Double.isNaN(x)) {
            return "–";
        }
        if (Double.isInfinite(x)) {
            return x > 0 ? "∞" : "−∞";
        }
        if (x == 0) {
            return "0";
        }
        double a = Math.abs(x);
        if (a >= 999.5) {
            return String.format(Locale.ROOT, "%,.0f", x);
        }
        if (a < 1e-3) {
            return String.format(Locale.ROOT, "%.2e", x);
        }
        return new BigDecimal(x).round(new MathContext(3)).stripTrailingZeros().toPlainString();
    }

    /** A readable integer with thousands separators. */
    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** A time given in seconds, in the unit that keeps it readable: {@code 1.23 s}, {@code 45.6 ms}, {@code 789 µs}, {@code 12 ns}. */
    static String seconds(double s) {
        if (!Double.isFinite(s)) {
            return sig(s);
        }
        double a = Math.abs(s);
        if (a == 0) {
            return "0 s";
        }
        if (a >= 0.9995) {
            return sig(s) + " s";
        }
        if (a >= 0.9995e-3) {
            return sig(s * 1e3) + " ms";
        }
        if (a >= 0.9995e-6) {
            return sig(s * 1e6) + " µs";
        }
        return sig(s * 1e9) + " ns";
    }

    /** A percentage of {@code part} in {@code whole}, no decimals, or a dash. */
    static String share(double part, double whole) {
        if (!(whole > 0) || !Double.isFinite(part)) {
            return "–";
        }
        return String.format(Locale.ROOT, "%.0f%%", 100 * part / whole);
    }
}
