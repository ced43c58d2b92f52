// Ink's devtools integration is only loaded with DEV=true; the bundle ships a stub.
export default { initialize() {}, connectToDevTools() {} };
