// The app as a bundler builds it with no configuration.
import { visit } from "./dogs.js";

visit(document.getElementById("out"));
