/* The agent console script; replaced by the console UI. */
