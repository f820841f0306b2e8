package dev.flinkslm.models.compliance.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One labelled text, optionally with its corpus split ({@code train}, {@code val}, {@code test}).
 * JSON-lines I/O helpers live here so that every tool reads the same format.
 */
public record LabeledText(String text, String label, String split) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One JSON line: {@code {"text":..,"label":..[,"split":..]}}. */
    public String toJsonLine() {
        ObjectNode n = JSON.createObjectNode();
        n.put("text", text);
        n.put("label", label);
        if (split != null) {
            n.put("split", split);
        }
        return n.toString();
    }

    /** Reads a JSON-lines file; blank lines are skipped; errors name the line. */
    public static List<LabeledText> read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file, e);
        }
    }

    /** Reads a class-path JSON-lines resource. */
    public static List<LabeledText> readResource(String resource) {
        try (InputStream in = Resources.open(resource)) {
            return read(in, resource);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + resource, e);
        }
    }

    private static List<LabeledText> read(InputStream in, String name) throws IOException {
        List<LabeledText> out = new ArrayList<>();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String line;
        int no = 0;
        while ((line = r.readLine()) != null) {
            no++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                throw new IllegalArgumentException(name + ":" + no + ": not valid JSON: " + e.getMessage());
            }
            if (n == null || !n.path("text").isTextual() || !n.path("label").isTextual()) {
                throw new IllegalArgumentException(
                        name + ":" + no + ": each line needs string fields \"text\" and \"label\"");
            }
            out.add(new LabeledText(
                    n.get("text").asText(),
                    n.get("label").asText(),
                    n.hasNonNull("split") ? n.get("split").asText() : null));
        }
        return out;
    }
}
