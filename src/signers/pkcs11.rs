//! PKCS#11 tokens (USB keys, smart cards, HSMs) through `cryptoki`; tested against SoftHSM2.
//!
//! One `Pkcs11` context per module path lives for the whole process: a module may be
//! initialized once per process, and the host may share it (`CKR_CRYPTOKI_ALREADY_INITIALIZED`
//! is accepted). PKCS#11 login state belongs to the application and the token, not to one
//! session, so logins are counted per token here: a key's drop logs out only when no other key
//! of this process still signs on that token, and a second key on a logged-in token must bring
//! the same PIN (compared here, since the token would answer `CKR_USER_ALREADY_LOGGED_IN`
//! whatever the PIN).
//!
//! The PIN is kept once per logged-in token, in a `Zeroizing` string, for re-login when the
//! token reports `CKR_USER_NOT_LOGGED_IN`; cryptoki gets it as a short-lived `AuthPin`. It never
//! appears in messages or `Debug` output.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use spki::der::asn1::{ObjectIdentifier, OctetStringRef};
use spki::der::{Decode, Encode};
use zeroize::Zeroizing;

use super::{ecdsa_der_to_raw, SigningBackend};
use crate::error::{err, Error, Result};
use crate::keys::{Algorithm, Key};

/// Where the key is: module, token label, key label, PIN, and the algorithm to sign with.
#[derive(Clone)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (`.so`/`.dll`).
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The key's label (`CKA_LABEL` of the private key; the public key or certificate has the same).
    pub key_label: String,
    /// The user PIN; wiped on drop, never logged. Empty on a token with a PIN pad
    /// (protected authentication path) to let the token ask for it.
    pub pin: Zeroizing<String>,
    /// RS256 or PS256 for RSA keys; `None` takes the key's natural algorithm (RS256 for RSA).
    pub alg: Option<Algorithm>,
}

/// Shows everything but the PIN.
impl fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("key_label", &self.key_label)
            .field("pin", &"<redacted>")
            .field("alg", &self.alg)
            .finish()
    }
}

/// A private key on a token. Signing calls are serialized on the key's one session (a PKCS#11
/// session must not be used by two threads at once); open several keys to sign in parallel.
pub struct Pkcs11Key {
    public: Key,
    token_label: String,
    key_label: String,
    certificate: Option<Vec<u8>>,
    signing: Mutex<Signing>,
}

/// Shows the algorithm, kid and labels only.
impl fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("alg", &self.public.algorithm())
            .field("kid", &self.public.kid())
            .field("token_label", &self.token_label)
            .field("key_label", &self.key_label)
            .finish()
    }
}

/// The session and the key handle, used by one signing at a time.
struct Signing {
    token: LoggedIn,
    key: ObjectHandle,
}

impl Pkcs11Key {
    /// Loads the module (once per process), finds the token by label, logs in with the PIN and
    /// finds the private key by label, with its public key (from the public-key object of the
    /// same label or `CKA_ID`, the private key's own attributes, or the certificate).
    pub fn open(config: &Pkcs11Config) -> Result<Pkcs11Key> {
        let (module, ctx) = load_module(&config.module)?;
        let (slot, token_label) = find_token(&ctx, &config.module, &config.token_label)?;
        let session = ctx
            .open_ro_session(slot)
            .map_err(|e| err!(MEDSEAL_PKCS11_DEVICE, "cannot open a session on token '{token_label}': {}", reason(&e)))?;
        let token = LoggedIn::log_in(&ctx, module, slot, session, &config.pin, &token_label)?;
        let session = &token.session;

        let key_label = config.key_label.as_str();
        let key = find_private_key(session, &token_label, key_label)?;
        let attrs = session
            .get_attributes(key, &[AttributeType::KeyType, AttributeType::Id, AttributeType::Sign, AttributeType::AlwaysAuthenticate])
            .map_err(|e| device(&token_label, "read the key's attributes", &e))?;
        let mut kind = None;
        let mut id = Vec::new();
        for attr in attrs {
            match attr {
                Attribute::KeyType(t) => kind = Some(t),
                Attribute::Id(v) => id = v,
                Attribute::Sign(false) => {
                    return Err(err!(MEDSEAL_PKCS11_KEY_NOT_FOUND, "key '{key_label}' on token '{token_label}' may not sign (CKA_SIGN is false)"))
                }
                Attribute::AlwaysAuthenticate(true) => {
                    return Err(err!(
                        MEDSEAL_KEY_UNSUPPORTED,
                        "key '{key_label}' on token '{token_label}' wants the PIN again for every signature (CKA_ALWAYS_AUTHENTICATE), which medseal does not support"
                    ))
                }
                _ => {}
            }
        }
        let (kind, alg) = match kind {
            Some(KeyType::RSA) => {
                let alg = match config.alg {
                    None | Some(Algorithm::RS256) => Algorithm::RS256,
                    Some(Algorithm::PS256) => Algorithm::PS256,
                    Some(other) => {
                        return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "key '{key_label}' is an RSA key: it signs RS256 or PS256, not {other}"))
                    }
                };
                (Kind::Rsa, alg)
            }
            Some(KeyType::EC) => {
                check_p256(session, key, &token_label, key_label)?;
                match config.alg {
                    None | Some(Algorithm::ES256) => (Kind::P256, Algorithm::ES256),
                    Some(other) => {
                        return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "key '{key_label}' is a P-256 EC key: it signs ES256 only, not {other}"))
                    }
                }
            }
            Some(other) => {
                return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "key '{key_label}' is of type {other}; medseal signs with RSA or P-256 keys"))
            }
            None => return Err(err!(MEDSEAL_PKCS11_DEVICE, "token '{token_label}' does not say the type of key '{key_label}'")),
        };
        check_mechanism(&ctx, slot, alg, &token_label)?;

        let certificates = find_certificates(session, key_label, &id);
        let public = read_public_key(session, key, kind, alg, key_label, &id, &certificates)
            .map_err(|e| Error::new(e.code(), format!("{} (key '{key_label}' on token '{token_label}')", e.message())))?;
        let certificate = certificates.into_iter().find(|der| certificate_holds(der, &public));
        Ok(Pkcs11Key { public, token_label, key_label: config.key_label.clone(), certificate, signing: Mutex::new(Signing { token, key }) })
    }

    /// Opens the key labelled `config.key_label`, first generating it on the token when the
    /// token has no private key of that label: a key pair of `kind` made by the token itself
    /// (the private key sensitive and not extractable: it never exists outside the token).
    /// Returns the key and whether it was generated. How a hospital makes its TLS client key on
    /// a token (`medseal facility init --tls-pkcs11-module`).
    pub fn open_or_generate(config: &Pkcs11Config, kind: NewKeyKind) -> Result<(Pkcs11Key, bool)> {
        let (module, ctx) = load_module(&config.module)?;
        let (slot, token_label) = find_token(&ctx, &config.module, &config.token_label)?;
        let session = ctx
            .open_rw_session(slot)
            .map_err(|e| err!(MEDSEAL_PKCS11_DEVICE, "cannot open a read-write session on token '{token_label}': {}", reason(&e)))?;
        // Logged in through the shared login, held until the key is opened.
        let token = LoggedIn::log_in(&ctx, module, slot, session, &config.pin, &token_label)?;
        let label = config.key_label.as_str();
        let existing = token
            .session
            .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Label(label.as_bytes().to_vec())])
            .map_err(|e| device(&token_label, "search for the key", &e))?;
        let generated = existing.is_empty();
        if generated {
            generate_key_pair(&token.session, kind, label, &token_label)?;
        }
        let key = Pkcs11Key::open(config)?;
        drop(token);
        Ok((key, generated))
    }

    /// The DER certificate stored on the token for this key (same label or `CKA_ID`, and the
    /// same public key), if there is one.
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.certificate.as_deref()
    }

    /// The token's label.
    pub fn token_label(&self) -> &str {
        &self.token_label
    }

    /// The key's label.
    pub fn key_label(&self) -> &str {
        &self.key_label
    }

    /// Logs in again after the token forgot the login (another application logged out, or
    /// the token was reset) and finds the key again, as handles of private objects need not
    /// survive a logout.
    fn relogin(&self, signing: &mut Signing) -> Result<()> {
        signing.token.relogin(&self.token_label)?;
        signing.key = find_private_key(&signing.token.session, &self.token_label, &self.key_label)?;
        Ok(())
    }
}

impl SigningBackend for Pkcs11Key {
    fn algorithm(&self) -> Algorithm {
        self.public.algorithm()
    }

    fn public_key(&self) -> &Key {
        &self.public
    }

    fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.sign_as(self.public.algorithm(), message)
    }
}

impl Pkcs11Key {
    /// Signs with `alg`, which may differ from the key's JWS algorithm for an RSA key: a TLS
    /// handshake signs PS256 (TLS 1.3) or RS256 (a TLS 1.2 server that asks for it) with the
    /// same key. Returns raw r‖s for ES256. The signature is not checked here
    /// ([`super::sign_checked`] and the TLS key check it).
    pub(crate) fn sign_as(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>> {
        let rsa = self.public.algorithm().is_rsa();
        if alg.is_rsa() != rsa || alg == Algorithm::EdDSA {
            return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "key '{}' on token '{}' cannot sign {alg}", self.key_label, self.token_label));
        }
        let digest;
        let (mechanism, data) = match alg {
            Algorithm::RS256 => (Mechanism::Sha256RsaPkcs, message),
            Algorithm::PS256 => (
                Mechanism::Sha256RsaPkcsPss(PkcsPssParams {
                    hash_alg: MechanismType::SHA256,
                    mgf: PkcsMgfType::MGF1_SHA256,
                    s_len: 32.into(),
                }),
                message,
            ),
            // Tokens rarely hash for ECDSA (and would get the whole record through a slow
            // channel): hash here and let the token sign the digest.
            Algorithm::ES256 => {
                digest = ring::digest::digest(&ring::digest::SHA256, message);
                (Mechanism::Ecdsa, digest.as_ref())
            }
            Algorithm::EdDSA => return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "PKCS#11 keys sign RS256, PS256 or ES256")),
        };
        let mut signing = self.signing.lock().map_err(|_| {
            err!(
                MEDSEAL_SIGNER_FAILED,
                "an earlier signing with key '{}' on token '{}' was interrupted; open the key again",
                self.key_label,
                self.token_label
            )
        })?;
        let signature = match signing.token.session.sign(&mechanism, signing.key, data) {
            Ok(signature) => signature,
            Err(CkError::Pkcs11(RvError::UserNotLoggedIn | RvError::KeyHandleInvalid | RvError::ObjectHandleInvalid, _)) => {
                self.relogin(&mut signing)?;
                signing.token.session.sign(&mechanism, signing.key, data).map_err(|e| self.sign_failed(&e))?
            }
            Err(e) => return Err(self.sign_failed(&e)),
        };
        Ok(match alg {
            Algorithm::ES256 => ecdsa_der_to_raw(&signature),
            _ => signature,
        })
    }

    /// Whether the token offers the mechanism `alg` needs (`MEDSEAL_PKCS11_DEVICE` if not).
    pub(crate) fn check_offers(&self, alg: Algorithm) -> Result<()> {
        let signing = self.signing.lock().map_err(|_| {
            err!(MEDSEAL_SIGNER_FAILED, "an earlier signing with key '{}' on token '{}' was interrupted", self.key_label, self.token_label)
        })?;
        check_mechanism(&signing.token.ctx, signing.token.slot, alg, &self.token_label)
    }

    fn sign_failed(&self, e: &CkError) -> Error {
        err!(MEDSEAL_PKCS11_DEVICE, "token '{}' failed to sign with key '{}': {}", self.token_label, self.key_label, reason(e))
    }
}

/// The labels of the initialized tokens a module offers, for messages and pickers.
pub fn token_labels(module: &Path) -> Result<Vec<String>> {
    let (_, ctx) = load_module(module)?;
    Ok(tokens(&ctx, module)?.into_iter().map(|(_, label, _)| label).collect())
}

/// A key pair [`Pkcs11Key::open_or_generate`] makes on a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewKeyKind {
    /// ECDSA on P-256.
    P256,
    /// RSA with a modulus of this many bits (2048 to 4096).
    Rsa(u32),
}

/// Generates a key pair on the token: the private key sensitive, not extractable, for signing
/// only; both halves labelled `label` with one random `CKA_ID`.
fn generate_key_pair(session: &Session, kind: NewKeyKind, label: &str, token_label: &str) -> Result<()> {
    use ring::rand::SecureRandom;
    let mut id = [0u8; 8];
    ring::rand::SystemRandom::new().fill(&mut id).map_err(|_| err!(MEDSEAL_PKCS11_DEVICE, "the system random generator failed"))?;
    let common = |public: bool| {
        let mut attrs = vec![Attribute::Token(true), Attribute::Label(label.as_bytes().to_vec()), Attribute::Id(id.to_vec())];
        if public {
            attrs.push(Attribute::Verify(true));
        } else {
            attrs.extend([
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
                Attribute::Decrypt(false),
            ]);
        }
        attrs
    };
    let mut public = common(true);
    let mechanism = match kind {
        NewKeyKind::P256 => {
            public.push(Attribute::EcParams(P256_PARAMS.to_vec()));
            Mechanism::EccKeyPairGen
        }
        NewKeyKind::Rsa(bits) => {
            if !(2048..=4096).contains(&bits) {
                return Err(err!(MEDSEAL_INVALID_ARGUMENT, "an RSA key made on a token has 2048 to 4096 bits, not {bits}"));
            }
            public.extend([Attribute::ModulusBits(u64::from(bits).into()), Attribute::PublicExponent(vec![1, 0, 1])]);
            Mechanism::RsaPkcsKeyPairGen
        }
    };
    session
        .generate_key_pair(&mechanism, &public, &common(false))
        .map_err(|e| device(token_label, &format!("generate a {kind:?} key pair labelled '{label}'"), &e))?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    Rsa,
    P256,
}

/// One loaded module and the logins this process holds on its tokens (by slot id).
struct Module {
    ctx: Pkcs11,
    logins: HashMap<u64, Login>,
}

/// A login shared by every key of this process on one token.
struct Login {
    /// For re-login and to check the PIN of later keys.
    pin: Zeroizing<String>,
    /// Keys using the login.
    holders: usize,
    /// Whether this process logged in (and so logs out), rather than finding the host had.
    ours: bool,
}

/// The process-wide modules, by canonical path. Never finalized or unloaded: the host or
/// another library may still use the module.
fn modules() -> MutexGuard<'static, HashMap<PathBuf, Module>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Module>>> = OnceLock::new();
    // Every update of the map is complete before anything that could fail: a poisoned lock
    // still holds a consistent map.
    MODULES.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner)
}

fn load_module(path: &Path) -> Result<(PathBuf, Pkcs11)> {
    let failed = |why: String| err!(MEDSEAL_PKCS11_MODULE, "cannot load the PKCS#11 module {}: {why}", path.display());
    // One context per file, however it is named (the SoftHSM2 path is a symlink).
    let canonical = std::fs::canonicalize(path).map_err(|e| failed(e.to_string()))?;
    let mut modules = modules();
    if let Some(module) = modules.get(&canonical) {
        return Ok((canonical, module.ctx.clone()));
    }
    let ctx = Pkcs11::new(&canonical).map_err(|e| failed(reason(&e)))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(err!(MEDSEAL_PKCS11_MODULE, "the PKCS#11 module {} failed to initialize: {}", path.display(), reason(&e))),
    }
    modules.insert(canonical.clone(), Module { ctx: ctx.clone(), logins: HashMap::new() });
    Ok((canonical, ctx))
}

/// Initialized tokens: slot, label (without the space padding) and serial number.
fn tokens(ctx: &Pkcs11, module: &Path) -> Result<Vec<(Slot, String, String)>> {
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| err!(MEDSEAL_PKCS11_DEVICE, "the PKCS#11 module {} cannot list its tokens: {}", module.display(), reason(&e)))?;
    // A token removed between the two calls is simply not listed.
    Ok(slots
        .into_iter()
        .filter_map(|slot| ctx.get_token_info(slot).ok().map(|info| (slot, info)))
        .filter(|(_, info)| info.token_initialized())
        .map(|(slot, info)| (slot, unpad(info.label()).to_owned(), unpad(info.serial_number()).to_owned()))
        .collect())
}

fn unpad(s: &str) -> &str {
    s.trim_end_matches([' ', '\0'])
}

fn find_token(ctx: &Pkcs11, module: &Path, label: &str) -> Result<(Slot, String)> {
    let all = tokens(ctx, module)?;
    let wanted = unpad(label);
    let found: Vec<_> = all.iter().filter(|(_, l, _)| l == wanted).collect();
    match found.as_slice() {
        [(slot, label, _)] => Ok((*slot, label.clone())),
        [] if all.is_empty() => Err(err!(
            MEDSEAL_PKCS11_TOKEN_NOT_FOUND,
            "no PKCS#11 token labelled '{wanted}' in {}: the module reports no initialized token (is it plugged in?)",
            module.display()
        )),
        [] => Err(err!(
            MEDSEAL_PKCS11_TOKEN_NOT_FOUND,
            "no PKCS#11 token labelled '{wanted}' in {}; tokens present: {}",
            module.display(),
            quoted(all.iter().map(|(_, l, _)| l.as_str()))
        )),
        // Signing with the wrong one of two look-alike tokens would be worse than stopping.
        many => Err(err!(
            MEDSEAL_PKCS11_TOKEN_NOT_FOUND,
            "{} tokens are labelled '{wanted}' in {} (serial numbers {}); token labels must be unique",
            many.len(),
            module.display(),
            quoted(many.iter().map(|(_, _, serial)| serial.as_str()))
        )),
    }
}

fn quoted<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
}

/// A session logged in as the user. Dropping it gives the login back (logging out when it
/// was this process's last key on the token) and then closes the session.
struct LoggedIn {
    session: Session,
    ctx: Pkcs11,
    module: PathBuf,
    slot: Slot,
}

impl LoggedIn {
    fn log_in(ctx: &Pkcs11, module: PathBuf, slot: Slot, session: Session, pin: &Zeroizing<String>, token_label: &str) -> Result<LoggedIn> {
        let protected = ctx.get_token_info(slot).map(|info| info.protected_authentication_path()).unwrap_or(false);
        let mut modules = modules();
        let logins = &mut modules
            .get_mut(&module)
            .ok_or_else(|| err!(MEDSEAL_PKCS11_MODULE, "the PKCS#11 module {} is not loaded", module.display()))?
            .logins;
        if let Some(login) = logins.get_mut(&slot.id()) {
            if !same_secret(login.pin.as_bytes(), pin.as_bytes()) {
                return Err(err!(
                    MEDSEAL_PKCS11_PIN,
                    "the PIN for token '{token_label}' differs from the one another key of this process logged in with"
                ));
            }
            // Usually CKR_USER_ALREADY_LOGGED_IN; logs in again if something logged out meanwhile.
            if user_login(&session, &login.pin, protected).map_err(|e| login_error(ctx, slot, token_label, &e))? {
                login.ours = true;
            }
            login.holders += 1;
        } else {
            // The host may have logged in already: then the token cannot check this PIN, and
            // logging out stays the host's business.
            let ours = user_login(&session, pin, protected).map_err(|e| login_error(ctx, slot, token_label, &e))?;
            logins.insert(slot.id(), Login { pin: pin.clone(), holders: 1, ours });
        }
        Ok(LoggedIn { session, ctx: ctx.clone(), module, slot })
    }

    fn relogin(&mut self, token_label: &str) -> Result<()> {
        let protected = self.ctx.get_token_info(self.slot).map(|info| info.protected_authentication_path()).unwrap_or(false);
        let mut modules = modules();
        let login = modules
            .get_mut(&self.module)
            .and_then(|m| m.logins.get_mut(&self.slot.id()))
            .ok_or_else(|| err!(MEDSEAL_PKCS11_DEVICE, "the login on token '{token_label}' was lost; open the key again"))?;
        if user_login(&self.session, &login.pin, protected).map_err(|e| login_error(&self.ctx, self.slot, token_label, &e))? {
            login.ours = true;
        }
        Ok(())
    }
}

impl Drop for LoggedIn {
    fn drop(&mut self) {
        let mut modules = modules();
        if let Some(module) = modules.get_mut(&self.module) {
            if let Some(login) = module.logins.get_mut(&self.slot.id()) {
                login.holders = login.holders.saturating_sub(1);
                if login.holders == 0 {
                    if login.ours {
                        // Errors ignored: the token may be gone, and closing the session follows.
                        let _ = self.session.logout();
                    }
                    module.logins.remove(&self.slot.id());
                }
            }
        }
    }
}

/// Logs the user in; `Ok(true)` if this call did, `Ok(false)` if the token already was.
fn user_login(session: &Session, pin: &Zeroizing<String>, protected: bool) -> std::result::Result<bool, CkError> {
    let result = if pin.is_empty() && protected {
        // A PIN pad: the token asks the user itself.
        session.login(UserType::User, None)
    } else {
        let pin = AuthPin::from(pin.as_str());
        session.login(UserType::User, Some(&pin))
    };
    match result {
        Ok(()) => Ok(true),
        Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Compares without stopping at the first difference.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn login_error(ctx: &Pkcs11, slot: Slot, token_label: &str, e: &CkError) -> Error {
    let CkError::Pkcs11(rv, _) = e else {
        return err!(MEDSEAL_PKCS11_DEVICE, "cannot log in to token '{token_label}': {}", reason(e));
    };
    let code = rv_name(rv);
    match rv {
        RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange => {
            let info = ctx.get_token_info(slot).ok();
            let warning = match info {
                Some(info) if info.user_pin_locked() => "; the PIN is now locked",
                Some(info) if info.user_pin_final_try() => "; one more wrong PIN locks it",
                _ => "",
            };
            err!(MEDSEAL_PKCS11_PIN, "token '{token_label}' refused the PIN ({code}){warning}")
        }
        RvError::PinLocked => {
            err!(MEDSEAL_PKCS11_PIN, "the user PIN of token '{token_label}' is locked ({code}); unlock it with the SO PIN")
        }
        RvError::PinExpired => err!(MEDSEAL_PKCS11_PIN, "the user PIN of token '{token_label}' has expired ({code}); change it first"),
        RvError::UserPinNotInitialized => err!(MEDSEAL_PKCS11_PIN, "token '{token_label}' has no user PIN yet ({code})"),
        _ => err!(MEDSEAL_PKCS11_DEVICE, "cannot log in to token '{token_label}': {}", reason(e)),
    }
}

fn device(token_label: &str, what: &str, e: &CkError) -> Error {
    err!(MEDSEAL_PKCS11_DEVICE, "token '{token_label}' failed to {what}: {}", reason(e))
}

fn find_private_key(session: &Session, token_label: &str, key_label: &str) -> Result<ObjectHandle> {
    let keys = session
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Label(key_label.as_bytes().to_vec())])
        .map_err(|e| device(token_label, "search for the key", &e))?;
    match keys.as_slice() {
        [key] => Ok(*key),
        [] => {
            let mut present = session
                .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
                .map(|all| all.into_iter().filter_map(|k| label_of(session, k)).collect::<Vec<_>>())
                .unwrap_or_default();
            present.sort();
            present.dedup();
            let listed = if present.is_empty() {
                "it holds no private key this login can see".to_owned()
            } else {
                format!("private keys present: {}", quoted(present.iter().take(20).map(String::as_str)))
            };
            Err(err!(MEDSEAL_PKCS11_KEY_NOT_FOUND, "token '{token_label}' has no private key labelled '{key_label}'; {listed}"))
        }
        many => Err(err!(
            MEDSEAL_PKCS11_KEY_NOT_FOUND,
            "{} private keys are labelled '{key_label}' on token '{token_label}'; key labels must be unique to say which one signs",
            many.len()
        )),
    }
}

fn label_of(session: &Session, object: ObjectHandle) -> Option<String> {
    match session.get_attributes(object, &[AttributeType::Label]).ok()?.pop()? {
        Attribute::Label(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        _ => None,
    }
}

/// DER of the namedCurve prime256v1 (1.2.840.10045.3.1.7) as `CKA_EC_PARAMS` holds it.
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

fn check_p256(session: &Session, key: ObjectHandle, token_label: &str, key_label: &str) -> Result<()> {
    let params = session
        .get_attributes(key, &[AttributeType::EcParams])
        .map_err(|e| device(token_label, "read the key's curve", &e))?
        .into_iter()
        .find_map(|a| match a {
            Attribute::EcParams(p) => Some(p),
            _ => None,
        });
    match params {
        Some(p) if p == P256_PARAMS => Ok(()),
        Some(p) => Err(err!(MEDSEAL_KEY_UNSUPPORTED, "key '{key_label}' is on curve {}; medseal signs with P-256 only", curve_name(&p))),
        // Some tokens keep the curve on the public key only; the public key read later must be P-256.
        None => Ok(()),
    }
}

fn curve_name(params: &[u8]) -> String {
    match ObjectIdentifier::from_der(params) {
        Ok(oid) => match oid.to_string().as_str() {
            "1.3.132.0.34" => "P-384 (1.3.132.0.34)".to_owned(),
            "1.3.132.0.35" => "P-521 (1.3.132.0.35)".to_owned(),
            "1.3.132.0.10" => "secp256k1 (1.3.132.0.10)".to_owned(),
            other => other.to_owned(),
        },
        Err(_) => "given by explicit parameters or a name".to_owned(),
    }
}

fn check_mechanism(ctx: &Pkcs11, slot: Slot, alg: Algorithm, token_label: &str) -> Result<()> {
    let (mechanism, name) = match alg {
        Algorithm::RS256 => (MechanismType::SHA256_RSA_PKCS, "CKM_SHA256_RSA_PKCS"),
        Algorithm::PS256 => (MechanismType::SHA256_RSA_PKCS_PSS, "CKM_SHA256_RSA_PKCS_PSS"),
        Algorithm::ES256 => (MechanismType::ECDSA, "CKM_ECDSA"),
        Algorithm::EdDSA => return Ok(()),
    };
    // A token that cannot list its mechanisms will say so when signing.
    match ctx.get_mechanism_list(slot) {
        Ok(list) if !list.contains(&mechanism) => {
            Err(err!(MEDSEAL_PKCS11_DEVICE, "token '{token_label}' does not offer {name}, which {alg} needs"))
        }
        _ => Ok(()),
    }
}

/// The public key, from the first source that has it.
fn read_public_key(
    session: &Session,
    private: ObjectHandle,
    kind: Kind,
    alg: Algorithm,
    key_label: &str,
    id: &[u8],
    certificates: &[Vec<u8>],
) -> Result<Key> {
    let public_objects = |attr: Attribute| session.find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY), attr]).unwrap_or_default();
    let mut sources = Vec::new();
    match public_objects(Attribute::Label(key_label.as_bytes().to_vec())).as_slice() {
        [one] => sources.push(*one),
        _ if !id.is_empty() => {
            if let [one] = public_objects(Attribute::Id(id.to_vec())).as_slice() {
                sources.push(*one);
            }
        }
        _ => {}
    }
    // RSA private keys usually show their modulus and exponent; EC ones rarely their point.
    sources.push(private);
    for object in sources {
        if let Some(key) = public_from_object(session, object, kind, alg)? {
            return Ok(key);
        }
    }
    for der in certificates {
        if let Ok(spki) = certificate_spki(der) {
            return Key::import(&spki, Some(alg));
        }
    }
    Err(err!(
        MEDSEAL_PKCS11_KEY_NOT_FOUND,
        "no public key found: no public-key object with the key's label or CKA_ID, no public attributes on the private key, no certificate"
    ))
}

/// The key from an object's public attributes; `None` if the object does not show them.
fn public_from_object(session: &Session, object: ObjectHandle, kind: Kind, alg: Algorithm) -> Result<Option<Key>> {
    let wanted: &[AttributeType] = match kind {
        Kind::Rsa => &[AttributeType::Modulus, AttributeType::PublicExponent],
        Kind::P256 => &[AttributeType::EcParams, AttributeType::EcPoint],
    };
    let Ok(attrs) = session.get_attributes(object, wanted) else { return Ok(None) };
    let (mut n, mut e, mut params, mut point) = (None, None, None, None);
    for attr in attrs {
        match attr {
            Attribute::Modulus(v) => n = Some(v),
            Attribute::PublicExponent(v) => e = Some(v),
            Attribute::EcParams(v) => params = Some(v),
            Attribute::EcPoint(v) => point = Some(v),
            _ => {}
        }
    }
    match kind {
        Kind::Rsa => match (n, e) {
            (Some(n), Some(e)) if !n.is_empty() && !e.is_empty() => Key::from_rsa_public_parts(&n, &e, Some(alg)).map(Some),
            _ => Ok(None),
        },
        Kind::P256 => {
            if let Some(p) = params.filter(|p| p.as_slice() != P256_PARAMS) {
                return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "the public key is on curve {}; medseal signs with P-256 only", curve_name(&p)));
            }
            match point {
                Some(point) if !point.is_empty() => Key::from_p256_point(&unwrap_ec_point(&point)).map(Some),
                _ => Ok(None),
            }
        }
    }
}

/// `CKA_EC_POINT` is a DER OCTET STRING around the point (PKCS#11 2.40); some tokens give the
/// raw point. A raw uncompressed P-256 point has 65 bytes, its DER form 67.
fn unwrap_ec_point(value: &[u8]) -> Vec<u8> {
    if value.len() == 65 && value[0] == 0x04 {
        return value.to_vec();
    }
    match OctetStringRef::from_der(value) {
        Ok(inner) => inner.as_bytes().to_vec(),
        Err(_) => value.to_vec(),
    }
}

/// Certificates with the key's label, then those with its `CKA_ID`.
fn find_certificates(session: &Session, key_label: &str, id: &[u8]) -> Vec<Vec<u8>> {
    let mut handles = session
        .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE), Attribute::Label(key_label.as_bytes().to_vec())])
        .unwrap_or_default();
    if !id.is_empty() {
        for handle in session.find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE), Attribute::Id(id.to_vec())]).unwrap_or_default() {
            if !handles.contains(&handle) {
                handles.push(handle);
            }
        }
    }
    handles
        .into_iter()
        .filter_map(|h| session.get_attributes(h, &[AttributeType::Value]).ok())
        .filter_map(|attrs| {
            attrs.into_iter().find_map(|a| match a {
                Attribute::Value(der) if !der.is_empty() => Some(der),
                _ => None,
            })
        })
        .collect()
}

fn certificate_spki(der: &[u8]) -> std::result::Result<Vec<u8>, spki::der::Error> {
    x509_cert::Certificate::from_der(der)?.tbs_certificate.subject_public_key_info.to_der()
}

fn certificate_holds(der: &[u8], public: &Key) -> bool {
    certificate_spki(der).ok().and_then(|spki| Key::import(&spki, None).ok()).is_some_and(|key| key.kid() == public.kid())
}

/// Why a cryptoki call failed, with the PKCS#11 return code name (`CKR_PIN_INCORRECT`).
fn reason(e: &CkError) -> String {
    match e {
        CkError::Pkcs11(rv, function) => format!("{} from C_{function:?}", rv_name(rv)),
        CkError::LibraryLoading(why) => why.to_string(),
        other => other.to_string(),
    }
}

/// The `CKR_` name of a return code: cryptoki's variant names are the spec's names in camel case.
fn rv_name(rv: &RvError) -> String {
    match rv {
        RvError::VendorDefined(code) => format!("CKR_VENDOR_DEFINED (0x{code:x})"),
        RvError::UnknownErrorCode(code) => format!("unknown CK_RV 0x{code:x}"),
        other => {
            let mut name = String::from("CKR");
            for c in format!("{other:?}").chars() {
                if c.is_ascii_uppercase() {
                    name.push('_');
                }
                name.push(c.to_ascii_uppercase());
            }
            name
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_code_names() {
        assert_eq!(rv_name(&RvError::PinIncorrect), "CKR_PIN_INCORRECT");
        assert_eq!(rv_name(&RvError::UserNotLoggedIn), "CKR_USER_NOT_LOGGED_IN");
        assert_eq!(rv_name(&RvError::CryptokiAlreadyInitialized), "CKR_CRYPTOKI_ALREADY_INITIALIZED");
        assert_eq!(rv_name(&RvError::VendorDefined(0x8000_0001)), "CKR_VENDOR_DEFINED (0x80000001)");
    }

    #[test]
    fn ec_points_raw_or_wrapped() {
        let mut raw = vec![0x04];
        raw.extend([0x3f; 64]); // would also parse as a 63-byte OCTET STRING
        assert_eq!(unwrap_ec_point(&raw), raw);
        let mut wrapped = vec![0x04, 0x41];
        wrapped.extend(&raw);
        assert_eq!(unwrap_ec_point(&wrapped), raw);
    }

    #[test]
    fn config_debug_hides_the_pin() {
        let config = Pkcs11Config {
            module: PathBuf::from("/m.so"),
            token_label: "t".into(),
            key_label: "k".into(),
            pin: Zeroizing::new("s3cr3t-PIN".into()),
            alg: None,
        };
        assert!(!format!("{config:?}").contains("s3cr3t"));
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret(b"1234", b"1234"));
        assert!(!same_secret(b"1234", b"1235"));
        assert!(!same_secret(b"1234", b"12345"));
    }
}
