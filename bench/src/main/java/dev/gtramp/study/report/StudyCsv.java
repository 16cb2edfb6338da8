package dev.gtramp.study.report;

import dev.gtramp.study.StudyResult;
import dev.gtramp.study.StudyResult.Memory;
import dev.gtramp.study.StudyResult.Phase;
import dev.gtramp.study.StudyResult.Projection;
import dev.gtramp.study.StudyResult.Row;
import dev.gtramp.study.StudyResult.Stats;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The study's CSV ({@code study.csv}), RFC 4180 (Apache Commons CSV's default format, CRLF line
 * ends), one header line and one record per {@link Row}, in the rows' order. Columns:
 * <ol>
 *   <li>{@code design, kind, size, n, attached, programs, links};</li>
 *   <li>for each phase {@code load}, {@code attach}, {@code detach}: {@code <phase>_ms_median},
 *       {@code <phase>_ms_min}, {@code <phase>_ms_max} (the model's wall time, milliseconds) and
 *       {@code <phase>_runs};</li>
 *   <li>{@code projected_load_s, projected_attach_s, projected_detach_s}: projected kernel time,
 *       seconds;</li>
 *   <li>{@code retained_bytes, retained_objects, retained_bytes_per_function};</li>
 *   <li>one column per counted event per phase, {@code <phase>.<event>} (e.g.
 *       {@code attach.ftrace.text_pokes}): the union over all rows, sorted by name, 0 where a row
 *       did not count it.</li>
 * </ol>
 * Numbers are plain ({@link java.util.Locale#ROOT}, no thousands separators, no exponent); a
 * value that is NaN or infinite, or missing, is an empty cell.
 */
public final class StudyCsv {
    /** The phases, in column order. */
    static final List<String> PHASES = List.of("load", "attach", "detach");

    private StudyCsv() {
    }

    /** The header of {@code result}'s CSV: the fixed columns, then its event columns. */
    public static List<String> header(StudyResult result) {
        List<String> h = new ArrayList<>(List.of("design", "kind", "size", "n", "attached", "programs", "links"));
        for (String phase : PHASES) {
            h.add(phase + "_ms_median");
            h.add(phase + "_ms_min");
            h.add(phase + "_ms_max");
            h.add(phase + "_runs");
        }
        h.addAll(List.of("projected_load_s", "projected_attach_s", "projected_detach_s",
                "retained_bytes", "retained_objects", "retained_bytes_per_function"));
        h.addAll(eventColumns(result));
        return h;
    }

    /** Every {@code <phase>.<event>} some row counted, sorted. */
    static List<String> eventColumns(StudyResult result) {
        TreeSet<String> columns = new TreeSet<>();
        for (Row row : rows(result)) {
            for (String phase : PHASES) {
                Phase p = phase(row, phase);
                if (p != null && p.events() != null) {
                    p.events().keySet().forEach(e -> columns.add(phase + "." + e));
                }
            }
        }
        return List.copyOf(columns);
    }

    /**
     * Writes the CSV to {@code out} (a {@link java.io.Writer}, a {@link StringBuilder}, ...);
     * flushes it if it is flushable but does not close it.
     *
     * @throws UncheckedIOException if {@code out} fails
     */
    public static void write(StudyResult result, Appendable out) {
        List<String> header = header(result);
        List<String> events = eventColumns(result);
        CSVFormat format = CSVFormat.DEFAULT.builder().setHeader(header.toArray(String[]::new)).get();
        try {
            CSVPrinter printer = new CSVPrinter(out, format);
            for (Row row : rows(result)) {
                printer.printRecord(record(row, events));
            }
            printer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the CSV to {@code file}, UTF-8, atomically (a temporary file renamed over it). */
    public static void write(StudyResult result, Path file) throws IOException {
        try {
            AtomicFiles.write(file, w -> write(result, w));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static List<String> record(Row row, List<String> events) {
        List<String> v = new ArrayList<>(List.of(text(row.design()), text(row.kind()), text(row.size()),
                Integer.toString(row.n()), Integer.toString(row.attached()), Integer.toString(row.programs()),
                Integer.toString(row.links())));
        for (String phase : PHASES) {
            Phase p = phase(row, phase);
            Stats s = p == null ? null : p.millis();
            v.add(s == null ? "" : Fmt.plain(s.median()));
            v.add(s == null ? "" : Fmt.plain(s.min()));
            v.add(s == null ? "" : Fmt.plain(s.max()));
            v.add(s == null ? "" : Integer.toString(s.runs()));
        }
        Projection pr = row.projected();
        v.add(pr == null ? "" : Fmt.plain(pr.loadSeconds()));
        v.add(pr == null ? "" : Fmt.plain(pr.attachSeconds()));
        v.add(pr == null ? "" : Fmt.plain(pr.detachSeconds()));
        Memory m = row.retained();
        v.add(m == null ? "" : Long.toString(m.bytes()));
        v.add(m == null ? "" : Long.toString(m.objects()));
        v.add(m == null ? "" : Fmt.plain(m.bytesPerFunction()));
        for (String column : events) {
            int dot = column.indexOf('.');
            Phase p = phase(row, column.substring(0, dot));
            Map<String, Long> counted = p == null || p.events() == null ? Map.of() : p.events();
            Long count = counted.get(column.substring(dot + 1));
            v.add(count == null ? "0" : Long.toString(count));
        }
        return v;
    }

    private static Phase phase(Row row, String phase) {
        return switch (phase) {
            case "load" -> row.load();
            case "attach" -> row.attach();
            case "detach" -> row.detach();
            default -> throw new IllegalArgumentException(phase);
        };
    }

    private static List<Row> rows(StudyResult result) {
        return result.rows() == null ? List.of() : result.rows();
    }

    private static String text(String s) {
        return s == null ? "" : s;
    }
}
