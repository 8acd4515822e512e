// Bulletin's page script. Pages are complete without it; it only enhances.
"use strict";
