/** Moved to test/helpers/wait.ts; kept while tests in progress still import it from here. */
export { waitFor } from "../../helpers/wait";
