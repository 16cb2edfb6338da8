package dev.gtramp.kernel.image;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The text symbols of a {@code /proc/kallsyms} listing ({@code ADDRESS TYPE NAME [MODULE]} per
 * line), split into functions and the {@code __pfx_} labels that mark the
 * {@code CONFIG_FUNCTION_PADDING_BYTES} before each function.
 *
 * <p>Only text symbols ({@code t}/{@code T}, and weak {@code w}/{@code W}) are kept; other lines are
 * counted and skipped, so a full {@code /proc/kallsyms} reads the same as a text-only extract.
 * Module symbols ({@code [module]} suffix) are skipped: the image models the core kernel.
 */
public final class Kallsyms {
    /** The prefix of the padding labels the compiler emits with {@code -fpatchable-function-entry}. */
    public static final String PFX = "__pfx_";

    /** One text symbol. */
    public record Symbol(long address, char type, String name) {
    }

    private final List<Symbol> functions;
    private final Map<String, List<Long>> addressesByName;
    private final Map<Long, String> pfxByAddress;
    private final int pfxLabels;
    private final int skippedLines;

    private Kallsyms(List<Symbol> functions, Map<Long, String> pfxByAddress, int pfxLabels, int skippedLines) {
        this.functions = Collections.unmodifiableList(functions);
        this.pfxByAddress = pfxByAddress;
        this.pfxLabels = pfxLabels;
        this.skippedLines = skippedLines;
        Map<String, List<Long>> byName = new HashMap<>(functions.size() * 2);
        for (Symbol s : functions) {
            byName.computeIfAbsent(s.name(), k -> new ArrayList<>(1)).add(s.address());
        }
        this.addressesByName = byName;
    }

    /**
     * Parses a kallsyms listing.
     *
     * @throws KernelException EINVAL naming the line for a malformed line
     */
    public static Kallsyms read(InputStream in) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII), 1 << 16);
        List<Symbol> functions = new ArrayList<>(70_000);
        Map<Long, String> pfx = new HashMap<>(1 << 17);
        int pfxLabels = 0;
        int skipped = 0;
        int lineNo = 0;
        for (String line; (line = r.readLine()) != null; ) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            int s1 = line.indexOf(' ');
            int s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
            if (s1 <= 0 || s2 != s1 + 2 || s2 + 1 >= line.length()) {
                throw malformed(lineNo, line, "expected 'ADDRESS TYPE NAME'");
            }
            long address;
            try {
                address = Long.parseUnsignedLong(line, 0, s1, 16);
            } catch (NumberFormatException e) {
                throw malformed(lineNo, line, "address is not hexadecimal");
            }
            char type = line.charAt(s1 + 1);
            int end = line.indexOf('\t', s2 + 1);
            boolean module = end >= 0 || line.indexOf(" [", s2 + 1) >= 0;
            String name = (end < 0 ? line.substring(s2 + 1) : line.substring(s2 + 1, end)).trim();
            if (name.isEmpty() || name.indexOf(' ') >= 0 && !module) {
                throw malformed(lineNo, line, "bad symbol name");
            }
            if (module || "tTwW".indexOf(type) < 0) {
                skipped++;
                continue;
            }
            if (name.startsWith(PFX)) {
                pfxLabels++;
                pfx.put(address, name);
            } else {
                functions.add(new Symbol(address, type, name));
            }
        }
        return new Kallsyms(functions, pfx, pfxLabels, skipped);
    }

    private static KernelException malformed(int lineNo, String line, String why) {
        String shown = line.length() > 80 ? line.substring(0, 80) + "..." : line;
        return new KernelException(Errno.EINVAL, "kallsyms line " + lineNo + ": " + why + ": \"" + shown + "\"");
    }

    /** Text symbols other than {@code __pfx_} labels, in listing order. */
    public List<Symbol> functions() {
        return functions;
    }

    /** The number of text symbols, padding labels included. */
    public int textSymbols() {
        return functions.size() + pfxLabels;
    }

    /** The number of {@code __pfx_} padding labels. */
    public int paddingLabels() {
        return pfxLabels;
    }

    /** Lines skipped because they are not core-kernel text symbols. */
    public int skippedLines() {
        return skippedLines;
    }

    /** Every address with a text symbol of this name, in listing order; empty if none. */
    public List<Long> addresses(String name) {
        return addressesByName.getOrDefault(name, List.of());
    }

    /** The address {@code kallsyms_lookup_name} would return: the first symbol with this name. */
    public Optional<Long> lookupName(String name) {
        List<Long> a = addressesByName.get(name);
        return a == null ? Optional.empty() : Optional.of(a.get(0));
    }

    /**
     * The padding before the function at {@code ip}: the distance back to the {@code __pfx_<name>}
     * label, which is 16 with {@code CONFIG_FUNCTION_PADDING_BYTES=16}; 0 without a label.
     */
    public int paddingBefore(long ip, String name) {
        for (int pad = 16; pad <= 64; pad <<= 1) {
            String label = pfxByAddress.get(ip - pad);
            if (label != null && label.length() == PFX.length() + name.length() && label.endsWith(name)) {
                return pad;
            }
        }
        return 0;
    }

    /** The address of a marker symbol such as {@code _stext}, if present. */
    public Optional<Long> marker(String name) {
        return lookupName(name);
    }
}
