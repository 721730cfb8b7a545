package k8s

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/steward-oss/steward/connectors"
	"github.com/steward-oss/steward/remediation/action"
)

// Action types the Kubernetes actuator performs.
const (
	// ActionRevokeGrant deletes the binding ParamBinding.
	ActionRevokeGrant = action.RevokeGrant
	// ActionRemoveMembership removes one subject from ParamBinding.
	ActionRemoveMembership = action.RemoveMembership
	// ActionDeactivate is refused: see Actuator.
	ActionDeactivate = action.DeactivateIdentity
)

// Action parameters.
const (
	// ParamBinding names the binding as the reader's attrs.via on
	// attached_to edges: "RoleBinding/<ns>/<name>" or
	// "ClusterRoleBinding/<name>".
	ParamBinding = "binding"
	// ParamSubject is the subject remove_membership removes:
	// "ServiceAccount/<ns>/<name>", "User/<name>" or "Group/<name>".
	// Without it, the target node is the subject.
	ParamSubject = "subject"
	// ParamUID, ParamResourceVersion and ParamDigest are the approved
	// state of the binding (metadata.uid, metadata.resourceVersion,
	// BindingDigest). revoke_grant needs at least one; every one given
	// is checked.
	// Named binding_* because the target node's own attrs (a service
	// account's uid) may be copied into Params as its expected state.
	ParamUID             = "binding_uid"
	ParamResourceVersion = "binding_resource_version"
	ParamDigest          = "binding_digest"
)

// Undo keys of a Step.
const (
	// UndoObject is the deleted binding as JSON, without uid,
	// resourceVersion, managedFields and other server-set fields, which
	// Rollback creates again.
	UndoObject = "object"
	// UndoSubjects is the JSON array of the subject entries
	// remove_membership took out, which Rollback appends again.
	UndoSubjects = "subjects"
	// UndoCall is the request Rollback makes (informational).
	UndoCall = "call"
)

// ActuatorConfig holds the actuator's own credentials: a kubeconfig (and
// context) or the pod's in-cluster service account, bound to a role other
// than the reader's.
type ActuatorConfig struct {
	Kubeconfig string
	Context    string
	InCluster  bool
	// Cluster names the source, k8s:<cluster>, whose node ids the
	// actuator accepts (default: the context's cluster, else "cluster",
	// as the reader).
	Cluster string
}

// Actuator deletes RoleBindings and ClusterRoleBindings and removes
// subjects from them through client-go. Before acting it GETs the binding
// and refuses with connectors.ErrTargetChanged when it differs from the
// approved state; the write itself carries the fetched uid and
// resourceVersion (delete preconditions, update resourceVersion), so a
// change between the read and the write is a 409 and also refused.
//
// deactivate_identity is unsupported: Kubernetes cannot disable a
// ServiceAccount. Deleting its legacy token Secrets leaves it able to get
// bound tokens through the TokenRequest API, and a rollback could not
// bring a deleted token back (a new Secret mints a new token).
type Actuator struct {
	cs     kubernetes.Interface
	source string
	prefix string
}

var _ connectors.Actuator = (*Actuator)(nil)

// NewActuator reads the kubeconfig (or in-cluster config) and returns an
// actuator; it does not connect.
func NewActuator(cfg ActuatorConfig) (*Actuator, error) {
	if cfg.InCluster == (cfg.Kubeconfig != "") {
		return nil, errors.New("k8s: actuator: give exactly one of kubeconfig or in-cluster")
	}
	if cfg.Context != "" && cfg.Kubeconfig == "" {
		return nil, errors.New("k8s: actuator: context needs kubeconfig")
	}
	r := &Reader{kubeconfig: cfg.Kubeconfig, context: cfg.Context, inCluster: cfg.InCluster}
	rc, name, err := r.restConfig()
	if err != nil {
		return nil, fmt.Errorf("k8s: actuator: %w", err)
	}
	rc.UserAgent = "steward-actuator"
	// JSON rather than the protobuf client-go sends by default for
	// built-in types: the bodies it writes then read the same in the API
	// server's audit log as in a step's undo data.
	rc.ContentType = "application/json"
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("k8s: actuator: client: %w", err)
	}
	cluster := cfg.Cluster
	if cluster == "" {
		cluster = name
	}
	if cluster == "" {
		cluster = "cluster"
	}
	source := "k8s:" + cluster
	return &Actuator{cs: cs, source: source, prefix: source + ":"}, nil
}

// bindingRef is a parsed ParamBinding.
type bindingRef struct {
	cluster   bool // ClusterRoleBinding
	namespace string
	name      string
}

func (b bindingRef) String() string {
	if b.cluster {
		return "ClusterRoleBinding/" + b.name
	}
	return "RoleBinding/" + b.namespace + "/" + b.name
}

const rbacPath = "/apis/rbac.authorization.k8s.io/v1"

// collection is the REST path of the binding's collection, where a create
// is POSTed.
func (b bindingRef) collection() string {
	if b.cluster {
		return rbacPath + "/clusterrolebindings"
	}
	return rbacPath + "/namespaces/" + b.namespace + "/rolebindings"
}

func (b bindingRef) path() string { return b.collection() + "/" + b.name }

func parseBinding(s string) (bindingRef, error) {
	parts := strings.Split(s, "/")
	var b bindingRef
	switch {
	case len(parts) == 2 && parts[0] == "ClusterRoleBinding":
		b = bindingRef{cluster: true, name: parts[1]}
	case len(parts) == 3 && parts[0] == "RoleBinding":
		b = bindingRef{namespace: parts[1], name: parts[2]}
		if errs := validation.IsDNS1123Label(b.namespace); len(errs) > 0 {
			return bindingRef{}, fmt.Errorf("param %q: namespace %q: %s", ParamBinding, b.namespace, strings.Join(errs, "; "))
		}
	default:
		return bindingRef{}, fmt.Errorf("param %q: want RoleBinding/<namespace>/<name> or ClusterRoleBinding/<name>, got %q", ParamBinding, s)
	}
	if b.name == "" {
		return bindingRef{}, fmt.Errorf("param %q: empty name in %q", ParamBinding, s)
	}
	if errs := content.IsPathSegmentName(b.name); len(errs) > 0 {
		return bindingRef{}, fmt.Errorf("param %q: name %q: %s", ParamBinding, b.name, strings.Join(errs, "; "))
	}
	return b, nil
}

// subjectRef is a subject in the form of ParamSubject.
type subjectRef struct {
	kind      string
	namespace string // ServiceAccount only
	name      string
}

func (s subjectRef) String() string {
	if s.kind == rbacv1.ServiceAccountKind {
		return s.kind + "/" + s.namespace + "/" + s.name
	}
	return s.kind + "/" + s.name
}

func parseSubject(s string) (subjectRef, error) {
	kind, rest, _ := strings.Cut(s, "/")
	switch kind {
	case rbacv1.ServiceAccountKind:
		ns, name, ok := strings.Cut(rest, "/")
		if ok && ns != "" && name != "" && !strings.Contains(name, "/") {
			return subjectRef{kind: kind, namespace: ns, name: name}, nil
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		if rest != "" {
			return subjectRef{kind: kind, name: rest}, nil
		}
	}
	return subjectRef{}, fmt.Errorf("param %q: want ServiceAccount/<namespace>/<name>, User/<name> or Group/<name>, got %q", ParamSubject, s)
}

// matches reports whether a binding's subject entry is s. A
// ServiceAccount without a namespace in a RoleBinding is in the binding's
// namespace; the user system:serviceaccount:<ns>:<name> is that account,
// as the reader models it.
func (s subjectRef) matches(e rbacv1.Subject, bindingNS string) bool {
	switch e.Kind {
	case rbacv1.ServiceAccountKind:
		ns := e.Namespace
		if ns == "" {
			ns = bindingNS
		}
		return s.kind == e.Kind && s.namespace == ns && s.name == e.Name
	case rbacv1.UserKind:
		if s.kind == rbacv1.ServiceAccountKind {
			return e.Name == saUserPrefix+s.namespace+":"+s.name
		}
	}
	return s.kind == e.Kind && s.name == e.Name
}

// target is a parsed Action.Target: a role node (roleID set) or a subject
// node (subject set).
type target struct {
	roleID  string
	subject *subjectRef
}

func (a *Actuator) parseTarget(id string) (target, error) {
	rest, ok := strings.CutPrefix(id, a.prefix)
	if !ok {
		return target{}, fmt.Errorf("node %q is not in source %s", id, a.source)
	}
	kind, name, _ := strings.Cut(rest, "/")
	switch kind {
	case "sa":
		ns, n, ok := strings.Cut(name, "/")
		if ok && ns != "" && n != "" {
			return target{subject: &subjectRef{kind: rbacv1.ServiceAccountKind, namespace: ns, name: n}}, nil
		}
	case "user":
		if name != "" {
			return target{subject: &subjectRef{kind: rbacv1.UserKind, name: name}}, nil
		}
	case "group":
		if name != "" {
			return target{subject: &subjectRef{kind: rbacv1.GroupKind, name: name}}, nil
		}
	case "clusterrole", "role":
		if name != "" {
			return target{roleID: id}, nil
		}
	case "ns": // ns/<ns>/clusterrole/<name>; ns/<ns> alone is the namespace
		if ns, role, ok := strings.Cut(name, "/clusterrole/"); ok && ns != "" && role != "" {
			return target{roleID: id}, nil
		}
	}
	return target{}, fmt.Errorf("node %q is not a service account, user, group or role of %s", id, a.source)
}

// roleNode is the reader's node id of the role a binding attaches.
func (a *Actuator) roleNode(b bindingRef, ref rbacv1.RoleRef) string {
	switch {
	case b.cluster:
		return a.prefix + "clusterrole/" + ref.Name
	case ref.Kind == "ClusterRole":
		return a.prefix + "ns/" + b.namespace + "/clusterrole/" + ref.Name
	}
	return a.prefix + "role/" + b.namespace + "/" + ref.Name
}

// op is a resolved action.
type op struct {
	typ     action.Kind
	binding bindingRef
	target  target
	subject subjectRef // remove_membership
	uid     string
	rv      string
	digest  string
}

func (a *Actuator) resolve(act connectors.Action) (op, error) {
	fail := func(err error) (op, error) {
		return op{}, fmt.Errorf("k8s: %s %q: %w", act.Type, act.Target, err)
	}
	switch act.Type {
	case ActionRevokeGrant, ActionRemoveMembership:
	case ActionDeactivate:
		return fail(fmt.Errorf("kubernetes cannot disable a service account: deleting it or its legacy token secrets cannot be rolled back and pods can still request bound tokens; revoke its bindings instead: %w", connectors.ErrUnsupported))
	default:
		return fail(fmt.Errorf("action %q: %w", act.Type, connectors.ErrUnsupported))
	}
	o := op{typ: act.Type, uid: act.Params[ParamUID], rv: act.Params[ParamResourceVersion], digest: act.Params[ParamDigest]}
	t, err := a.parseTarget(act.Target)
	if err != nil {
		return fail(err)
	}
	o.target = t
	raw := act.Params[ParamBinding]
	if raw == "" {
		return fail(fmt.Errorf("param %q (the attached_to edge's via) is required", ParamBinding))
	}
	if o.binding, err = parseBinding(raw); err != nil {
		return fail(err)
	}
	if act.Type == ActionRevokeGrant {
		if o.uid == "" && o.rv == "" && o.digest == "" {
			return fail(fmt.Errorf("one of params %q, %q or %q (the approved binding) is required", ParamUID, ParamResourceVersion, ParamDigest))
		}
		return o, nil
	}
	switch s := act.Params[ParamSubject]; {
	case s != "":
		if o.subject, err = parseSubject(s); err != nil {
			return fail(err)
		}
		if t.subject != nil && *t.subject != o.subject {
			return fail(fmt.Errorf("param %q is %s but the target is %s", ParamSubject, o.subject, t.subject))
		}
	case t.subject != nil:
		o.subject = *t.subject
	default:
		return fail(fmt.Errorf("param %q is required when the target is a role", ParamSubject))
	}
	return o, nil
}

// Plan returns the requests Execute would make. It does not connect.
func (a *Actuator) Plan(ctx context.Context, act connectors.Action) ([]connectors.Step, error) {
	o, err := a.resolve(act)
	if err != nil {
		return nil, err
	}
	p := o.binding.path()
	if o.typ == ActionRevokeGrant {
		return []connectors.Step{
			{Call: "GET " + p},
			{Call: "DELETE " + p, Undo: map[string]string{UndoCall: "POST " + o.binding.collection()}},
		}, nil
	}
	return []connectors.Step{
		{Call: "GET " + p},
		{Call: "PUT " + p, Undo: map[string]string{UndoCall: "PUT " + p}},
	}, nil
}

// binding is the fields of a RoleBinding or ClusterRoleBinding the
// actuator works with.
type binding struct {
	meta     metav1.ObjectMeta
	roleRef  rbacv1.RoleRef
	subjects []rbacv1.Subject
}

func (a *Actuator) get(ctx context.Context, b bindingRef) (binding, error) {
	if b.cluster {
		crb, err := a.cs.RbacV1().ClusterRoleBindings().Get(ctx, b.name, metav1.GetOptions{})
		if err != nil {
			return binding{}, err
		}
		return binding{meta: crb.ObjectMeta, roleRef: crb.RoleRef, subjects: crb.Subjects}, nil
	}
	rb, err := a.cs.RbacV1().RoleBindings(b.namespace).Get(ctx, b.name, metav1.GetOptions{})
	if err != nil {
		return binding{}, err
	}
	return binding{meta: rb.ObjectMeta, roleRef: rb.RoleRef, subjects: rb.Subjects}, nil
}

// update writes subjects with the fetched resourceVersion, so the API
// server refuses (409) if the binding changed since it was read.
func (a *Actuator) update(ctx context.Context, b bindingRef, cur binding, subjects []rbacv1.Subject) error {
	var err error
	if b.cluster {
		_, err = a.cs.RbacV1().ClusterRoleBindings().Update(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: cur.meta, RoleRef: cur.roleRef, Subjects: subjects}, metav1.UpdateOptions{})
	} else {
		_, err = a.cs.RbacV1().RoleBindings(b.namespace).Update(ctx, &rbacv1.RoleBinding{
			ObjectMeta: cur.meta, RoleRef: cur.roleRef, Subjects: subjects}, metav1.UpdateOptions{})
	}
	return err
}

// BindingDigest is the approved-state digest of a binding for ParamDigest:
// the SHA-256 (hex) of its roleRef and its subjects (sorted, a
// ServiceAccount's empty namespace replaced by the binding's namespace).
func BindingDigest(namespace string, ref rbacv1.RoleRef, subjects []rbacv1.Subject) string {
	lines := make([]string, 0, len(subjects))
	for _, s := range subjects {
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "" {
			s.Namespace = namespace
		}
		lines = append(lines, strings.Join([]string{s.Kind, s.APIGroup, s.Namespace, s.Name}, "\x00"))
	}
	slices.Sort(lines)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\n", ref.APIGroup, ref.Kind, ref.Name)
	for _, l := range lines {
		h.Write([]byte(l + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// check compares the live binding with the approved state of o.
func (a *Actuator) check(o op, cur binding) error {
	var diffs []string
	if o.uid != "" && string(cur.meta.UID) != o.uid {
		diffs = append(diffs, fmt.Sprintf("uid is %s, approved %s", cur.meta.UID, o.uid))
	}
	if o.rv != "" && cur.meta.ResourceVersion != o.rv {
		diffs = append(diffs, fmt.Sprintf("resourceVersion is %s, approved %s", cur.meta.ResourceVersion, o.rv))
	}
	if o.digest != "" {
		if d := BindingDigest(o.binding.namespace, cur.roleRef, cur.subjects); d != o.digest {
			diffs = append(diffs, fmt.Sprintf("roleRef and subjects digest is %s, approved %s", d, o.digest))
		}
	}
	if cur.meta.DeletionTimestamp != nil {
		diffs = append(diffs, "it is being deleted")
	}
	if o.target.roleID != "" {
		if r := a.roleNode(o.binding, cur.roleRef); r != o.target.roleID {
			diffs = append(diffs, fmt.Sprintf("it binds %s, not the target", r))
		}
	}
	if s := o.target.subject; s != nil && !slices.ContainsFunc(cur.subjects, func(e rbacv1.Subject) bool {
		return s.matches(e, o.binding.namespace)
	}) {
		diffs = append(diffs, fmt.Sprintf("%s is no longer a subject", s))
	}
	if o.typ == ActionRemoveMembership && o.target.subject == nil && !slices.ContainsFunc(cur.subjects, func(e rbacv1.Subject) bool {
		return o.subject.matches(e, o.binding.namespace)
	}) {
		diffs = append(diffs, fmt.Sprintf("%s is no longer a subject", o.subject))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%s: %s: %w", o.binding, strings.Join(diffs, "; "), connectors.ErrTargetChanged)
	}
	return nil
}

// Execute GETs the binding, checks it against the approval, and deletes it
// (revoke_grant) or writes it back without the subject
// (remove_membership).
func (a *Actuator) Execute(ctx context.Context, act connectors.Action) (connectors.Step, error) {
	o, err := a.resolve(act)
	if err != nil {
		return connectors.Step{}, err
	}
	p := o.binding.path()
	fail := func(call string, err error) (connectors.Step, error) {
		return connectors.Step{}, fmt.Errorf("k8s: %s %q: %s: %w", act.Type, act.Target, call, err)
	}
	cur, err := a.get(ctx, o.binding)
	if apierrors.IsNotFound(err) {
		return fail("GET "+p, fmt.Errorf("%s no longer exists: %w", o.binding, connectors.ErrTargetChanged))
	}
	if err != nil {
		return fail("GET "+p, err)
	}
	if err := a.check(o, cur); err != nil {
		return fail("GET "+p, err)
	}
	if err := ctx.Err(); err != nil {
		return connectors.Step{}, err
	}
	if o.typ == ActionRevokeGrant {
		return a.deleteBinding(ctx, o, cur, fail)
	}
	var keep, removed []rbacv1.Subject
	for _, s := range cur.subjects {
		if o.subject.matches(s, o.binding.namespace) {
			removed = append(removed, s)
		} else {
			keep = append(keep, s)
		}
	}
	call := "PUT " + p
	if err := a.update(ctx, o.binding, cur, keep); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return fail(call, fmt.Errorf("%s changed after it was read: %v: %w", o.binding, err, connectors.ErrTargetChanged))
		}
		return fail(call, err)
	}
	js, err := json.Marshal(removed)
	if err != nil {
		return fail(call, err)
	}
	return connectors.Step{Call: call, Undo: map[string]string{UndoSubjects: string(js), UndoCall: call}}, nil
}

func (a *Actuator) deleteBinding(ctx context.Context, o op, cur binding, fail func(string, error) (connectors.Step, error)) (connectors.Step, error) {
	call := "DELETE " + o.binding.path()
	// Deleting the binding takes the role from every subject; a proposal
	// about one identity must not silently revoke another's access.
	if s := o.target.subject; s != nil {
		for _, e := range cur.subjects {
			if !s.matches(e, o.binding.namespace) {
				return fail(call, fmt.Errorf("%s also binds %s/%s: remove the target with %s instead of deleting the binding", o.binding, e.Kind, e.Name, ActionRemoveMembership))
			}
		}
	}
	obj, err := a.undoObject(o.binding, cur)
	if err != nil {
		return fail(call, err)
	}
	uid, rv := cur.meta.UID, cur.meta.ResourceVersion
	opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}}
	if o.binding.cluster {
		err = a.cs.RbacV1().ClusterRoleBindings().Delete(ctx, o.binding.name, opts)
	} else {
		err = a.cs.RbacV1().RoleBindings(o.binding.namespace).Delete(ctx, o.binding.name, opts)
	}
	if err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return fail(call, fmt.Errorf("%s changed after it was read: %v: %w", o.binding, err, connectors.ErrTargetChanged))
		}
		return fail(call, err)
	}
	return connectors.Step{Call: call, Undo: map[string]string{UndoObject: obj, UndoCall: "POST " + o.binding.collection()}}, nil
}

// undoObject is the binding as Rollback creates it again: what the user
// wrote, without the fields the API server sets.
func (a *Actuator) undoObject(b bindingRef, cur binding) (string, error) {
	m := metav1.ObjectMeta{Name: cur.meta.Name, Namespace: cur.meta.Namespace, Labels: cur.meta.Labels,
		Annotations: cur.meta.Annotations, OwnerReferences: cur.meta.OwnerReferences}
	var v any
	if b.cluster {
		v = rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{Kind: "ClusterRoleBinding", APIVersion: rbacv1.SchemeGroupVersion.String()},
			ObjectMeta: m, RoleRef: cur.roleRef, Subjects: cur.subjects}
	} else {
		v = rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{Kind: "RoleBinding", APIVersion: rbacv1.SchemeGroupVersion.String()},
			ObjectMeta: m, RoleRef: cur.roleRef, Subjects: cur.subjects}
	}
	js, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", b, err)
	}
	return string(js), nil
}

// Check re-reads the binding to tell whether act took effect when its
// outcome was lost (the process died during the call); approval then
// marks it done with the returned step or runs it again. A revoke_grant is
// applied when the binding is gone, or, with an approved uid, replaced by
// another object; its step then has no undo object (the deleted binding
// is not known any more), so it cannot be rolled back. A remove_membership
// is applied when the subject is no longer in the binding; its undo is the
// subject with an explicit namespace.
func (a *Actuator) Check(ctx context.Context, act connectors.Action) (bool, connectors.Step, error) {
	o, err := a.resolve(act)
	if err != nil {
		return false, connectors.Step{}, err
	}
	p := o.binding.path()
	cur, err := a.get(ctx, o.binding)
	if o.typ == ActionRevokeGrant {
		switch {
		case apierrors.IsNotFound(err):
			return true, connectors.Step{Call: "DELETE " + p}, nil
		case err != nil:
			return false, connectors.Step{}, fmt.Errorf("k8s: check %s %q: GET %s: %w", act.Type, act.Target, p, err)
		case o.uid != "" && string(cur.meta.UID) != o.uid:
			return true, connectors.Step{Call: "DELETE " + p}, nil
		}
		return false, connectors.Step{}, nil
	}
	if apierrors.IsNotFound(err) {
		return false, connectors.Step{}, fmt.Errorf("k8s: check %s %q: GET %s: %s no longer exists: %w", act.Type, act.Target, p, o.binding, connectors.ErrTargetChanged)
	}
	if err != nil {
		return false, connectors.Step{}, fmt.Errorf("k8s: check %s %q: GET %s: %w", act.Type, act.Target, p, err)
	}
	if slices.ContainsFunc(cur.subjects, func(e rbacv1.Subject) bool { return o.subject.matches(e, o.binding.namespace) }) {
		return false, connectors.Step{}, nil
	}
	s := rbacv1.Subject{Kind: o.subject.kind, Name: o.subject.name, Namespace: o.subject.namespace}
	if s.Kind != rbacv1.ServiceAccountKind {
		s.APIGroup = rbacv1.GroupName
	}
	js, err := json.Marshal([]rbacv1.Subject{s})
	if err != nil {
		return false, connectors.Step{}, err
	}
	return true, connectors.Step{Call: "PUT " + p, Undo: map[string]string{UndoSubjects: string(js), UndoCall: "PUT " + p}}, nil
}

// Rollback restores what a step removed: it creates the deleted binding
// again, or appends the removed subjects. If the binding (with its role
// and subjects) or the subject is already there, it does nothing, so a
// retried rollback is safe.
func (a *Actuator) Rollback(ctx context.Context, act connectors.Action, done connectors.Step) error {
	o, err := a.resolve(act)
	if err != nil {
		return err
	}
	fail := func(call string, err error) error {
		return fmt.Errorf("k8s: rollback %s %q: %s: %w", act.Type, act.Target, call, err)
	}
	if o.typ == ActionRevokeGrant {
		return a.recreate(ctx, o, done, fail)
	}
	var subjects []rbacv1.Subject
	if err := json.Unmarshal([]byte(done.Undo[UndoSubjects]), &subjects); err != nil || len(subjects) == 0 {
		return fail("undo", fmt.Errorf("step undo %q is not the removed subjects of %s", UndoSubjects, o.binding))
	}
	for _, s := range subjects {
		if !o.subject.matches(s, o.binding.namespace) {
			return fail("undo", fmt.Errorf("step undo subject %s/%s is not %s", s.Kind, s.Name, o.subject))
		}
	}
	p := o.binding.path()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := a.get(ctx, o.binding)
		if apierrors.IsNotFound(err) {
			return fail("GET "+p, fmt.Errorf("%s no longer exists, so %s cannot be added back: %w", o.binding, o.subject, connectors.ErrTargetChanged))
		}
		if err != nil {
			return fail("GET "+p, err)
		}
		if slices.ContainsFunc(cur.subjects, func(e rbacv1.Subject) bool { return o.subject.matches(e, o.binding.namespace) }) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.update(ctx, o.binding, cur, append(slices.Clone(cur.subjects), subjects...)); err != nil {
			if apierrors.IsConflict(err) {
				return err // read again and retry
			}
			return fail("PUT "+p, err)
		}
		return nil
	})
}

func (a *Actuator) recreate(ctx context.Context, o op, done connectors.Step, fail func(string, error) error) error {
	call := "POST " + o.binding.collection()
	raw := []byte(done.Undo[UndoObject])
	if len(raw) == 0 {
		return fail("undo", fmt.Errorf("the step has no undo object: the deleted %s is not known (its deletion was confirmed by Check after a restart)", o.binding))
	}
	var (
		meta     metav1.ObjectMeta
		roleRef  rbacv1.RoleRef
		subjects []rbacv1.Subject
		kind     string
		create   func() error
	)
	if o.binding.cluster {
		var crb rbacv1.ClusterRoleBinding
		err := json.Unmarshal(raw, &crb)
		if err != nil {
			return fail("undo", fmt.Errorf("step undo %q: %w", UndoObject, err))
		}
		crb.ResourceVersion, crb.UID = "", ""
		meta, roleRef, subjects, kind = crb.ObjectMeta, crb.RoleRef, crb.Subjects, crb.Kind
		create = func() error {
			_, err := a.cs.RbacV1().ClusterRoleBindings().Create(ctx, &crb, metav1.CreateOptions{})
			return err
		}
	} else {
		var rb rbacv1.RoleBinding
		err := json.Unmarshal(raw, &rb)
		if err != nil {
			return fail("undo", fmt.Errorf("step undo %q: %w", UndoObject, err))
		}
		rb.ResourceVersion, rb.UID = "", ""
		meta, roleRef, subjects, kind = rb.ObjectMeta, rb.RoleRef, rb.Subjects, rb.Kind
		create = func() error {
			_, err := a.cs.RbacV1().RoleBindings(o.binding.namespace).Create(ctx, &rb, metav1.CreateOptions{})
			return err
		}
	}
	want := "RoleBinding"
	if o.binding.cluster {
		want = "ClusterRoleBinding"
	}
	if kind != want || meta.Name != o.binding.name || meta.Namespace != o.binding.namespace {
		return fail("undo", fmt.Errorf("step undo object %s %s/%s does not belong to %s", kind, meta.Namespace, meta.Name, o.binding))
	}
	if o.digest != "" {
		if d := BindingDigest(o.binding.namespace, roleRef, subjects); d != o.digest {
			return fail("undo", fmt.Errorf("step undo object does not match the approved digest of %s", o.binding))
		}
	}
	cur, err := a.get(ctx, o.binding)
	switch {
	case err == nil:
		if BindingDigest(o.binding.namespace, cur.roleRef, cur.subjects) == BindingDigest(o.binding.namespace, roleRef, subjects) {
			return nil
		}
		return fail("GET "+o.binding.path(), fmt.Errorf("%s exists again with a different role or subjects: %w", o.binding, connectors.ErrTargetChanged))
	case !apierrors.IsNotFound(err):
		return fail("GET "+o.binding.path(), err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := create(); err != nil {
		return fail(call, err)
	}
	return nil
}
